//! An area's reporting lists: the settings, age phases, needs and pathways
//! a response's context is recorded with. Administrators keep them per
//! area (starting from the defaults below); the server sends them to
//! devices with the forms, so the apps offer exactly these values; and a
//! value not on its list is counted under [`OTHER`], never as a group of
//! its own, so no device can make up report groups.

use serde::{Deserialize, Serialize};

/// What a value not on its list is counted as.
pub const OTHER: &str = "other";

/// Longest list an area may keep (a report splits by at most this many
/// groups per dimension).
pub const MAX_ITEMS: usize = 60;

/// A reporting dimension kept as a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListDim {
    /// Where the response was captured (school, clinic, home, event).
    Setting,
    /// Early years, primary, secondary, post-16, 19-25.
    AgePhase,
    /// Primary need.
    Need,
    /// Pathway (an assessment or service).
    Pathway,
}

impl ListDim {
    /// Every list.
    pub const ALL: [Self; 4] = [Self::Setting, Self::AgePhase, Self::Need, Self::Pathway];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setting => "setting",
            Self::AgePhase => "age_phase",
            Self::Need => "need",
            Self::Pathway => "pathway",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One value of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListItem {
    /// The value recorded (lowercase letters, digits, `_`).
    pub id: String,
    /// What people are shown.
    pub label: String,
}

/// An area's four lists, with a version that changes whenever any does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaLists {
    /// Changes with every edit (devices fetch the lists when it differs).
    pub version: i64,
    /// Settings.
    pub settings: Vec<ListItem>,
    /// Age phases.
    pub age_phases: Vec<ListItem>,
    /// Needs.
    pub needs: Vec<ListItem>,
    /// Pathways.
    pub pathways: Vec<ListItem>,
}

/// Why a list was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// An id that is not lowercase letters, digits and `_` (1 to 40).
    #[error("'{0}' is not a list value: use 1 to 40 lowercase letters, digits and '_'")]
    BadId(String),
    /// The reserved catch-all.
    #[error("'{OTHER}' is kept for values not on the list; it cannot be added")]
    Reserved,
    /// A value listed twice.
    #[error("'{0}' is listed twice")]
    Duplicate(String),
    /// An empty label.
    #[error("'{0}' needs a label of 1 to 80 characters")]
    BadLabel(String),
    /// Too many values.
    #[error("a list holds at most {MAX_ITEMS} values")]
    TooMany,
}

fn item(id: &str, label: &str) -> ListItem {
    ListItem {
        id: id.to_owned(),
        label: label.to_owned(),
    }
}

impl AreaLists {
    /// The lists a new area starts with: the settings of a local SEND
    /// partnership, the age phases of the SEND code of practice, its
    /// primary-need categories, and the common assessment pathways.
    pub fn defaults() -> Self {
        Self {
            version: 1,
            settings: vec![
                item("school", "Mainstream school"),
                item("special_school", "Special school"),
                item("resource_base", "Resource base"),
                item("college", "College"),
                item("early_years_setting", "Early years setting"),
                item("clinic", "Clinic"),
                item("child_development_centre", "Child development centre"),
                item("home", "Home"),
                item("community", "Community venue"),
                item("event", "Event"),
            ],
            age_phases: vec![
                item("early_years", "Early years (0-4)"),
                item("primary", "Primary (5-11)"),
                item("secondary", "Secondary (11-16)"),
                item("post_16", "Post-16 (16-19)"),
                item("19_25", "19-25"),
            ],
            needs: vec![
                item("speech_language", "Speech, language and communication"),
                item("autism", "Autism"),
                item("semh", "Social, emotional and mental health"),
                item("mld", "Moderate learning difficulty"),
                item("sld", "Severe learning difficulty"),
                item("pmld", "Profound and multiple learning difficulty"),
                item("spld", "Specific learning difficulty"),
                item("hearing", "Hearing impairment"),
                item("visual", "Visual impairment"),
                item("multi_sensory", "Multi-sensory impairment"),
                item("physical", "Physical disability"),
            ],
            pathways: vec![
                item("autism_assessment", "Autism assessment"),
                item("adhd_assessment", "ADHD assessment"),
                item("speech_language_therapy", "Speech and language therapy"),
                item("ehc_assessment", "EHC needs assessment"),
                item("camhs", "CAMHS"),
                item("early_help", "Early help"),
            ],
        }
    }

    /// One list.
    pub fn list(&self, dim: ListDim) -> &[ListItem] {
        match dim {
            ListDim::Setting => &self.settings,
            ListDim::AgePhase => &self.age_phases,
            ListDim::Need => &self.needs,
            ListDim::Pathway => &self.pathways,
        }
    }

    /// One list, to change.
    pub fn list_mut(&mut self, dim: ListDim) -> &mut Vec<ListItem> {
        match dim {
            ListDim::Setting => &mut self.settings,
            ListDim::AgePhase => &mut self.age_phases,
            ListDim::Need => &mut self.needs,
            ListDim::Pathway => &mut self.pathways,
        }
    }

    /// The item `id` on a list, if it is there.
    pub fn item(&self, dim: ListDim, id: &str) -> Option<&ListItem> {
        self.list(dim).iter().find(|i| i.id == id)
    }

    /// What a recorded value counts as: itself when it is on the list,
    /// [`OTHER`] when it is not, nothing when nothing was recorded.
    pub fn normalise(&self, dim: ListDim, value: Option<&str>) -> Option<String> {
        let v = value?.trim();
        if v.is_empty() {
            return None;
        }
        Some(if self.item(dim, v).is_some() {
            v.to_owned()
        } else {
            OTHER.to_owned()
        })
    }
}

/// Checks a list an administrator wrote.
pub fn check_list(items: &[ListItem]) -> Result<(), ListError> {
    if items.len() > MAX_ITEMS {
        return Err(ListError::TooMany);
    }
    let mut seen = std::collections::HashSet::new();
    for i in items {
        let ok = (1..=40).contains(&i.id.len())
            && i.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(ListError::BadId(i.id.clone()));
        }
        if i.id == OTHER {
            return Err(ListError::Reserved);
        }
        if !seen.insert(i.id.as_str()) {
            return Err(ListError::Duplicate(i.id.clone()));
        }
        if !(1..=80).contains(&i.label.trim().chars().count()) {
            return Err(ListError::BadLabel(i.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_off_the_list_count_as_other() {
        let lists = AreaLists::defaults();
        assert_eq!(
            lists.normalise(ListDim::Setting, Some("clinic")),
            Some("clinic".to_owned())
        );
        assert_eq!(
            lists.normalise(ListDim::Setting, Some("Mrs Smith's house")),
            Some(OTHER.to_owned())
        );
        assert_eq!(lists.normalise(ListDim::Need, None), None);
        assert_eq!(lists.normalise(ListDim::Need, Some("  ")), None);
        for dim in ListDim::ALL {
            assert!(
                check_list(lists.list(dim)).is_ok(),
                "{dim:?} defaults are valid"
            );
            assert_eq!(ListDim::parse(dim.as_str()), Some(dim));
        }
    }

    #[test]
    fn lists_an_administrator_writes_are_checked() {
        let ok = vec![item("clinic", "Clinic")];
        assert_eq!(check_list(&ok), Ok(()));
        assert_eq!(
            check_list(&[item("Clinic", "Clinic")]),
            Err(ListError::BadId("Clinic".into()))
        );
        assert_eq!(
            check_list(&[item(OTHER, "Other")]),
            Err(ListError::Reserved)
        );
        assert_eq!(
            check_list(&[item("a", "A"), item("a", "B")]),
            Err(ListError::Duplicate("a".into()))
        );
        assert_eq!(
            check_list(&[item("a", " ")]),
            Err(ListError::BadLabel("a".into()))
        );
        let many: Vec<ListItem> = (0..=MAX_ITEMS)
            .map(|i| item(&format!("v{i}"), "V"))
            .collect();
        assert_eq!(check_list(&many), Err(ListError::TooMany));
    }
}
