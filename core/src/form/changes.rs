//! What changed from one version of a form to the next, in the terms an
//! author and a report care about. A question's *shape* (its kind, its
//! option ids and the "don't know" / "don't want to say" offers) decides
//! whether two versions' answers can be counted together: reports put
//! versions whose shapes differ in separate tables, so an author must be
//! told before publishing which questions will be listed apart. This is the
//! one place that rule is written; the server's report planner uses it too.
//!
//! The semantic-version rule of the form model follows from it: wording
//! only is a patch, a new or removed question a minor, a question whose
//! shape changed a major version. [`Changes::needs`] says the least bump
//! the changes call for, so a publisher can warn when a version says less.

use std::collections::BTreeSet;

use serde::Serialize;

use super::model::{Form, Question, QuestionKind};

/// The part of a question that must stay the same for the answers of two
/// versions to be counted together.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    kind: String,
    options: Vec<String>,
    dont_know: bool,
    prefer_not_to_say: bool,
}

impl Question {
    /// The question's [`Shape`]: kind (a face scale with its points), the
    /// option ids in order, and the two non-answers it offers. Wording,
    /// hints, symbols, bounds and skip logic are not part of it.
    pub fn shape(&self) -> Shape {
        let mut kind = self.kind.name().to_owned();
        if let QuestionKind::FaceScale { points, .. } = &self.kind {
            kind = format!("{kind}{points}");
        }
        Shape {
            kind,
            options: self
                .kind
                .option_ids()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            dont_know: self.allow_dont_know,
            prefer_not_to_say: self.allow_prefer_not_to_say,
        }
    }
}

/// The least version bump a set of changes calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    /// Nothing changed.
    None,
    /// Wording, hints, symbols, bounds, skip logic or triggers.
    Patch,
    /// Questions added or removed.
    Minor,
    /// A question changed shape: reports list the versions apart.
    Major,
}

/// What changed from an older version of a form to a newer one. Question
/// ids are listed in the newer version's order (removed ones in the older
/// version's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Questions the newer version adds.
    pub added: Vec<String>,
    /// Questions the newer version no longer asks.
    pub removed: Vec<String>,
    /// Questions whose shape changed: reports list them apart.
    pub reshaped: Vec<String>,
    /// Questions with the same shape and other changes (wording, hints,
    /// easy read, symbols, bounds, skip logic).
    pub reworded: Vec<String>,
    /// Languages the newer version adds.
    pub languages_added: Vec<String>,
    /// Languages the newer version drops.
    pub languages_removed: Vec<String>,
    /// Whether the safeguarding triggers changed.
    pub triggers_changed: bool,
    /// Whether the title, introduction, audience or theme changed.
    pub about_changed: bool,
    /// Whether questions both versions ask are asked in another order.
    pub reordered: bool,
}

impl Changes {
    /// Compares `old` with `new` (two versions of one form).
    pub fn between(old: &Form, new: &Form) -> Self {
        let old_ids: BTreeSet<&str> = old.questions.iter().map(|q| q.id.as_str()).collect();
        let new_ids: BTreeSet<&str> = new.questions.iter().map(|q| q.id.as_str()).collect();
        let mut out = Self::default();
        for q in &new.questions {
            match old.question(&q.id) {
                None => out.added.push(q.id.clone()),
                Some(o) if o.shape() != q.shape() => out.reshaped.push(q.id.clone()),
                Some(o) if o != q => out.reworded.push(q.id.clone()),
                Some(_) => {}
            }
        }
        out.removed = old
            .questions
            .iter()
            .filter(|q| !new_ids.contains(q.id.as_str()))
            .map(|q| q.id.clone())
            .collect();
        let langs = |f: &Form| f.languages.iter().cloned().collect::<BTreeSet<_>>();
        out.languages_added = langs(new).difference(&langs(old)).cloned().collect();
        out.languages_removed = langs(old).difference(&langs(new)).cloned().collect();
        out.triggers_changed = old.safeguarding != new.safeguarding;
        out.about_changed = old.title != new.title
            || old.intro != new.intro
            || old.audience != new.audience
            || old.theme != new.theme;
        let both = |id: &&str| old_ids.contains(id) && new_ids.contains(id);
        let kept_old: Vec<&str> = old
            .questions
            .iter()
            .map(|q| q.id.as_str())
            .filter(both)
            .collect();
        let kept_new: Vec<&str> = new
            .questions
            .iter()
            .map(|q| q.id.as_str())
            .filter(both)
            .collect();
        out.reordered = kept_old != kept_new;
        out
    }

    /// The least version bump these changes call for.
    pub fn needs(&self) -> Bump {
        if !self.reshaped.is_empty() {
            Bump::Major
        } else if !self.added.is_empty() || !self.removed.is_empty() {
            Bump::Minor
        } else if self.reworded.is_empty()
            && self.languages_added.is_empty()
            && self.languages_removed.is_empty()
            && !self.triggers_changed
            && !self.about_changed
            && !self.reordered
        {
            Bump::None
        } else {
            Bump::Patch
        }
    }
}

/// The bump from one version number to another (`None` when `new` is not
/// newer). Before 1.0.0 a minor step counts as major, as semver has it.
pub fn bump_between(old: &semver::Version, new: &semver::Version) -> Bump {
    if new <= old {
        Bump::None
    } else if new.major != old.major || (old.major == 0 && new.minor != old.minor) {
        Bump::Major
    } else if new.minor != old.minor {
        Bump::Minor
    } else {
        Bump::Patch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{ChoiceOption, Text, builtin_form};

    fn form() -> Form {
        builtin_form("service-satisfaction").expect("shipped")
    }

    #[test]
    fn the_same_form_has_no_changes() {
        let f = form();
        assert_eq!(Changes::between(&f, &f), Changes::default());
        assert_eq!(Changes::between(&f, &f).needs(), Bump::None);
    }

    #[test]
    fn new_wording_is_a_patch_and_keeps_the_shape() {
        let old = form();
        let mut new = old.clone();
        new.questions[0].label = Text::new("en", "How was it, overall?");
        let c = Changes::between(&old, &new);
        assert_eq!(c.reworded, [old.questions[0].id.clone()]);
        assert!(c.reshaped.is_empty());
        assert_eq!(c.needs(), Bump::Patch);
    }

    #[test]
    fn a_new_option_changes_the_shape_and_needs_a_major_version() {
        let old = form();
        let mut new = old.clone();
        let fft = new
            .questions
            .iter_mut()
            .find(|q| q.id == "fft")
            .expect("fft");
        if let QuestionKind::SingleChoice { options } = &mut fft.kind {
            options.push(ChoiceOption {
                id: "excellent".into(),
                label: Text::new("en", "Excellent"),
                easy_read: None,
                symbol: None,
            });
        }
        let c = Changes::between(&old, &new);
        assert_eq!(c.reshaped, ["fft"]);
        assert_eq!(c.needs(), Bump::Major);
        // Offering "don't want to say" changes the shape too.
        let mut other = old.clone();
        let q = &mut other.questions[0];
        q.allow_prefer_not_to_say = !q.allow_prefer_not_to_say;
        assert_eq!(Changes::between(&old, &other).needs(), Bump::Major);
    }

    #[test]
    fn added_and_removed_questions_need_a_minor_version() {
        let old = form();
        let mut new = old.clone();
        let gone = new.questions.pop().expect("a question");
        let c = Changes::between(&old, &new);
        assert_eq!(c.removed, std::slice::from_ref(&gone.id));
        assert_eq!(c.needs(), Bump::Minor);
        let back = Changes::between(&new, &old);
        assert_eq!(back.added, [gone.id]);
        assert_eq!(back.needs(), Bump::Minor);
    }

    #[test]
    fn version_numbers_say_which_bump_they_are() {
        let v = |s: &str| semver::Version::parse(s).expect("version");
        assert_eq!(bump_between(&v("1.0.0"), &v("1.0.1")), Bump::Patch);
        assert_eq!(bump_between(&v("1.0.3"), &v("1.1.0")), Bump::Minor);
        assert_eq!(bump_between(&v("1.4.0"), &v("2.0.0")), Bump::Major);
        assert_eq!(bump_between(&v("0.1.0"), &v("0.2.0")), Bump::Major);
        assert_eq!(bump_between(&v("1.1.0"), &v("1.0.0")), Bump::None);
    }
}
