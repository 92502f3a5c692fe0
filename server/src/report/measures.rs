//! Scores computed from a cell's option counts: the NHS Friends and
//! Family Test % positive and % negative, the Experience of Service
//! Questionnaire score, "% agree" and a face scale's mean. A score is given
//! only when it follows from what is shown.

use super::suppress::Hidden;

/// How a score weighs each option: its weight in the numerator, or `None`
/// when the option is left out of the score altogether (numerator and
/// denominator).
pub(super) type Weights = fn(&str) -> Option<f64>;

/// A score: id, label, weights.
pub(super) type Score = (&'static str, &'static str, Weights);

/// The scores a question's options support.
pub(super) fn scores_for(option_ids: &[String], face_scale: bool) -> Vec<Score> {
    if face_scale {
        return vec![("mean", "mean score", |o| o.parse::<f64>().ok())];
    }
    let has = |id: &str| option_ids.iter().any(|o| o == id);
    let mut out: Vec<Score> = Vec::new();
    if ["very_good", "good", "poor", "very_poor"]
        .iter()
        .all(|o| has(o))
    {
        // NHS England's Friends and Family Test: shares of every response,
        // "don't know" included.
        out.push(("fft_positive", "% positive", |o| match o {
            "very_good" | "good" => Some(100.0),
            _ => Some(0.0),
        }));
        out.push(("fft_negative", "% negative", |o| match o {
            "poor" | "very_poor" => Some(100.0),
            _ => Some(0.0),
        }));
    }
    if ["certainly_true", "partly_true", "not_true"]
        .iter()
        .all(|o| has(o))
    {
        // Experience of Service Questionnaire: 2 / 1 / 0, as % of the best.
        out.push(("esq_score", "experience score (0-100)", |o| match o {
            "certainly_true" => Some(100.0),
            "partly_true" => Some(50.0),
            "not_true" => Some(0.0),
            _ => None,
        }));
    }
    if ["strongly_agree", "agree", "disagree", "strongly_disagree"]
        .iter()
        .all(|o| has(o))
    {
        out.push(("agree", "% agree", |o| match o {
            "strongly_agree" | "agree" => Some(100.0),
            o if o.starts_with('~') => None,
            _ => Some(0.0),
        }));
    }
    out
}

/// A score, or `None` when it could reveal a hidden cell: it is given only
/// when it follows from what is shown, i.e. every hidden option weighs the
/// same (their sum is known from "answered", so the score adds nothing).
/// `at(i)` is option `i`'s count, `at(option_ids.len())` the answered total.
pub(super) fn score(
    option_ids: &[String],
    at: &dyn Fn(usize) -> (u64, Hidden),
    w: Weights,
) -> Option<f64> {
    let (total, total_hidden) = at(option_ids.len());
    if total_hidden != Hidden::No {
        return None;
    }
    let mut hidden_weights: Vec<Option<f64>> = Vec::new();
    let (mut num, mut den) = (0.0, 0.0);
    let mut hidden_sum = total;
    for (i, id) in option_ids.iter().enumerate() {
        let (n, h) = at(i);
        if h == Hidden::No {
            hidden_sum = hidden_sum.saturating_sub(n);
            if let Some(x) = w(id) {
                num += x * n as f64;
                den += n as f64;
            }
        } else {
            hidden_weights.push(w(id));
        }
    }
    if let Some(first) = hidden_weights.first() {
        if hidden_weights.iter().any(|x| x != first) {
            return None;
        }
        if let Some(x) = first {
            num += x * hidden_sum as f64;
            den += hidden_sum as f64;
        }
    }
    (den > 0.0).then(|| (num / den * 10.0).round() / 10.0)
}
