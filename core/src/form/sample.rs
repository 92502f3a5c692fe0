//! Plausible answers for a form, for simulations, demos and tests: given a
//! random number per question (from any source), the answer a respondent
//! might give. Always valid for the question; never a real person's data.

use super::model::{Form, Question, QuestionKind};
use crate::answer::{Answer, Decimal, canonical_decimal, parse_decimal};

/// A valid answer to `question` chosen by `r`, or `None` to leave it
/// unanswered (only for optional questions, about one time in five).
pub fn plausible_answer(question: &Question, r: u64) -> Option<Answer> {
    if !question.kind.takes_answer() {
        return None;
    }
    if !question.required && r.is_multiple_of(5) {
        return None;
    }
    let r = r / 5;
    if question.kind.is_closed() && r.is_multiple_of(17) {
        if question.allow_dont_know {
            return Some(Answer::DontKnow);
        }
        if question.allow_prefer_not_to_say {
            return Some(Answer::PreferNotToSay);
        }
    }
    let pick = |n: usize| usize::try_from(r % (n.max(1) as u64)).unwrap_or(0);
    Some(match &question.kind {
        QuestionKind::FaceScale { points, .. } => {
            // Skewed towards the happier faces, as real answers are.
            let p = u64::from(*points);
            let v = p - (r % p) * (r / p % 2);
            Answer::Scale(u8::try_from(v.clamp(1, p)).unwrap_or(1))
        }
        QuestionKind::SingleChoice { options } => {
            Answer::Choice(options[pick(options.len())].id.clone())
        }
        QuestionKind::YesNo => Answer::Choice(["yes", "no", "not_sure", "yes"][pick(4)].to_owned()),
        QuestionKind::MultipleChoice {
            options,
            min_selected,
            max_selected,
        } => {
            let min = min_selected.unwrap_or(1).max(1) as usize;
            let max = max_selected
                .map_or(options.len(), |m| m as usize)
                .min(options.len());
            let n = min + pick(max - min + 1);
            let start = pick(options.len());
            let picked = (0..n)
                .map(|i| options[(start + i) % options.len()].id.clone())
                .collect();
            Answer::Choices(picked)
        }
        QuestionKind::FreeText { .. } => Answer::Text(
            [
                "More help while we waited.",
                "They listened to us.",
                "Clearer information, please.",
                "Nothing else.",
            ][pick(4)]
            .to_owned(),
        ),
        QuestionKind::Number { min, max } => {
            let span = u64::try_from(max.saturating_sub(*min))
                .unwrap_or(0)
                .saturating_add(1);
            Answer::Number(min + i64::try_from(r % span.max(1)).unwrap_or(0))
        }
        QuestionKind::Decimal { min, max } => {
            // A tenth between the bounds (0, and the lower bound + 100,
            // where open).
            let bound = |b: &Option<String>| b.as_deref().and_then(parse_decimal);
            let lo = bound(min).unwrap_or(Decimal::ZERO);
            let hi = bound(max)
                .or_else(|| lo.checked_add(Decimal::ONE_HUNDRED))
                .unwrap_or(lo);
            let tenths = hi.checked_sub(lo).and_then(|s| s.checked_mul(Decimal::TEN));
            let steps = tenths
                .and_then(|t| u64::try_from(t.floor()).ok())
                .unwrap_or(0)
                .saturating_add(1);
            let step = Decimal::from(r % steps) / Decimal::TEN;
            Answer::Decimal(canonical_decimal((lo + step).min(hi)))
        }
        QuestionKind::Date { min, max } => {
            let d = max
                .clone()
                .or_else(|| min.clone())
                .unwrap_or_else(|| "2026-01-15".to_owned());
            Answer::Date(d)
        }
        QuestionKind::Note => return None,
    })
}

/// A small deterministic stream of pseudo-random numbers (xorshift64) for
/// [`plausible_answers`]: the same seed gives the same answers. Not for
/// anything secret.
pub fn seeded(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Plausible answers to every relevant question of `form`, in order, each
/// chosen by the next number from `next`. Skip logic is respected.
pub fn plausible_answers(form: &Form, mut next: impl FnMut() -> u64) -> Vec<(String, Answer)> {
    let walk = form.fill(|q| plausible_answer(q, next()));
    walk.asked
        .iter()
        .filter_map(|q| Some((q.id.clone(), walk.kept.get(&q.id)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::builtin_forms;
    use crate::response::{Consent, ResponseContext, ResponseDoc};

    /// Every built-in form can be completed and submitted, whatever the
    /// respondent picks, including "don't know" and skipped questions.
    #[test]
    fn every_builtin_form_can_be_completed() {
        for form in builtin_forms().expect("valid") {
            let mut submitted_with_flag = false;
            for seed in 0..60u64 {
                let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let next = || {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    x >> 11
                };
                let consent = if form.audience.is_child() {
                    Consent::child()
                } else {
                    Consent::adult()
                };
                let mut doc =
                    ResponseDoc::start("r", &form, &ResponseContext::default(), consent, "t")
                        .expect("start");
                for (q, a) in plausible_answers(&form, next) {
                    doc.answer(&form, &q, a, 1)
                        .unwrap_or_else(|e| panic!("{}: {e}", form.id));
                }
                let flags = doc
                    .submit(&form, 2)
                    .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", form.id));
                submitted_with_flag |= !flags.is_empty();
            }
            if !form.safeguarding.is_empty() {
                assert!(
                    submitted_with_flag,
                    "{}: no plausible answers ever raise its triggers",
                    form.id
                );
            }
        }
    }
}
