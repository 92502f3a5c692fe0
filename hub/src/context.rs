//! What a practitioner records about a response before it starts: setting,
//! age phase, need and pathway chosen from the area's reporting lists (as
//! the device last received them), and the occasion in a few words. A value
//! not on its list is refused here, before anything is stored, so a page
//! cannot record a group the area does not have (the server would count it
//! as "other" anyway). Pure: the caller passes the lists.

use hark_core::lists::{AreaLists, ListDim};

/// Longest occasion ("home visit", "annual review") kept.
pub const MAX_OCCASION: usize = 80;

/// The choices as the context page sends them; empty means not recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextChoice {
    /// A setting id.
    pub setting: String,
    /// An age phase id.
    pub age_phase: String,
    /// A need id.
    pub need: String,
    /// A pathway id.
    pub pathway: String,
    /// The visit, in a few words (never a name).
    pub occasion: String,
}

/// The choices once checked: each an id on its list, or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedContext {
    /// Setting.
    pub setting: Option<String>,
    /// Age phase.
    pub age_phase: Option<String>,
    /// Need.
    pub need: Option<String>,
    /// Pathway.
    pub pathway: Option<String>,
    /// Occasion, trimmed.
    pub occasion: Option<String>,
}

/// Why the context was refused. Names the list, never the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// A value that is not on the area's list.
    #[error("that {0} is not on the area's list: choose one from the list")]
    NotOnList(&'static str),
    /// An occasion too long to be a few words.
    #[error("describe the occasion in at most {MAX_OCCASION} characters")]
    OccasionTooLong,
}

fn label(dim: ListDim) -> &'static str {
    match dim {
        ListDim::Setting => "setting",
        ListDim::AgePhase => "age phase",
        ListDim::Need => "need",
        ListDim::Pathway => "pathway",
    }
}

impl ContextChoice {
    /// Checks every choice against `lists` (no lists yet: only "not
    /// recorded" is accepted).
    ///
    /// # Errors
    /// [`ContextError`] for the first value off its list, or a long occasion.
    pub fn check(&self, lists: Option<&AreaLists>) -> Result<CheckedContext, ContextError> {
        let pick = |dim: ListDim, value: &str| -> Result<Option<String>, ContextError> {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            lists
                .and_then(|l| l.item(dim, value))
                .map(|i| Some(i.id.clone()))
                .ok_or(ContextError::NotOnList(label(dim)))
        };
        let occasion = self.occasion.trim();
        if occasion.chars().count() > MAX_OCCASION {
            return Err(ContextError::OccasionTooLong);
        }
        Ok(CheckedContext {
            setting: pick(ListDim::Setting, &self.setting)?,
            age_phase: pick(ListDim::AgePhase, &self.age_phase)?,
            need: pick(ListDim::Need, &self.need)?,
            pathway: pick(ListDim::Pathway, &self.pathway)?,
            occasion: (!occasion.is_empty()).then(|| occasion.to_owned()),
        })
    }
}

/// The label of `value` on its list, for showing a draft's context.
pub fn label_of(lists: Option<&AreaLists>, dim: ListDim, value: Option<&str>) -> Option<String> {
    let value = value?;
    Some(
        lists
            .and_then(|l| l.item(dim, value))
            .map_or_else(|| value.to_owned(), |i| i.label.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_on_the_lists_are_recorded() {
        let lists = AreaLists::defaults();
        let choice = ContextChoice {
            setting: "home".into(),
            age_phase: "primary".into(),
            need: "autism".into(),
            pathway: String::new(),
            occasion: "  Home visit ".into(),
        };
        let checked = choice.check(Some(&lists)).expect("on the lists");
        assert_eq!(checked.setting.as_deref(), Some("home"));
        assert_eq!(checked.pathway, None);
        assert_eq!(checked.occasion.as_deref(), Some("Home visit"));
        let off = ContextChoice {
            need: "Ayo's autism".into(),
            ..choice.clone()
        };
        assert_eq!(
            off.check(Some(&lists)),
            Err(ContextError::NotOnList("need"))
        );
        assert_eq!(choice.check(None), Err(ContextError::NotOnList("setting")));
        assert!(ContextChoice::default().check(None).is_ok());
        let long = ContextChoice {
            occasion: "x".repeat(MAX_OCCASION + 1),
            ..ContextChoice::default()
        };
        assert_eq!(long.check(None), Err(ContextError::OccasionTooLong));
        assert_eq!(
            label_of(Some(&lists), ListDim::Setting, Some("home")).as_deref(),
            Some("Home")
        );
    }
}
