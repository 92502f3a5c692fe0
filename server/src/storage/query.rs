//! SQL both backends share, written once with the placeholder style as a
//! parameter (`?1` for SQLite, `$1` for PostgreSQL): the grouped tally
//! read, publication's rollup of the live tallies, the free-text read, and
//! the tally column of each dimension.

use crate::tally::{ALL, Dim, ROLLUPS, TallyQuery};

/// The column holding a dimension in the tally tables and `responses` (a fixed
/// identifier, safe to put in SQL).
pub(super) fn column(d: Dim) -> &'static str {
    match d {
        Dim::Setting => "setting",
        Dim::AgePhase => "age_phase",
        Dim::Need => "need",
        Dim::Pathway => "pathway",
        Dim::Version => "form_version",
    }
}

/// A bound parameter of the SQL below, in order.
pub(super) type Params = Vec<String>;

fn version_keys(q: &TallyQuery) -> (Vec<String>, Vec<String>) {
    let mut forms: Vec<String> = q.versions.iter().map(|(f, _)| f.clone()).collect();
    forms.sort();
    forms.dedup();
    let versions = q.versions.iter().map(|(f, v)| format!("{f}|{v}")).collect();
    (forms, versions)
}

fn list(ph: &dyn Fn(usize) -> String, params: &mut Params, values: Vec<String>) -> String {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        params.push(v);
        out.push(ph(params.len()));
    }
    if out.is_empty() {
        "NULL".to_owned()
    } else {
        out.join(", ")
    }
}

/// Which tallies a read takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tallies {
    /// What leaders read: published months only, in rollups.
    Published,
    /// Equal to a recount of the stored responses; each count once, with
    /// all four dimensions.
    Live,
}

impl Tallies {
    fn table(self) -> &'static str {
        match self {
            Self::Published => "published_tallies",
            Self::Live => "live_tallies",
        }
    }
}

/// The grouped tally query and its parameters; `ph(i)` spells the i-th
/// (1-based) placeholder of the backend.
pub(super) fn tallies_sql(
    q: &TallyQuery,
    from: Tallies,
    ph: &dyn Fn(usize) -> String,
) -> (String, Params) {
    let mut params = vec![q.area_id.clone(), q.question.clone()];
    let (forms, versions) = version_keys(q);
    let forms = list(ph, &mut params, forms);
    let versions = list(ph, &mut params, versions);
    let dims: String = q.dims.iter().map(|d| format!("{}, ", column(*d))).collect();
    let mut sql = format!(
        "SELECT form_id, month, {dims}value, CAST(SUM(n) AS BIGINT) FROM {table}
         WHERE area_id = {} AND form_id IN ({forms}) AND question = {}
         AND form_id || '|' || form_version IN ({versions})",
        ph(1),
        ph(2),
        table = from.table(),
    );
    // The rollup that holds exactly the dimensions asked for (at most two
    // besides the version: see `report::plan`); the live tallies have no
    // rollups, and the GROUP BY adds up the dimensions not asked for.
    if from == Tallies::Published {
        for d in [Dim::Setting, Dim::AgePhase, Dim::Need, Dim::Pathway] {
            let op = if q.dims.contains(&d) { "<>" } else { "=" };
            sql += &format!(" AND {} {op} '{ALL}'", column(d));
        }
    }
    if let Some((from, to)) = &q.months {
        params.push(from.clone());
        params.push(to.clone());
        sql += &format!(
            " AND month >= {} AND month <= {}",
            ph(params.len() - 1),
            ph(params.len())
        );
    }
    sql += &format!(" GROUP BY form_id, month, {dims}value HAVING SUM(n) <> 0");
    (sql, params)
}

/// Publishes the live tallies of area `ph(1)` in the months `(ph(2),
/// ph(3)]` (an `INSERT`): every rollup of [`ROLLUPS`], the dimensions it
/// does not keep written [`ALL`] and added up, cells that add up to 0 left
/// out. The months' rows are read once; each pair is added up from them,
/// each single dimension from a pair holding it, and everyone from a
/// single dimension, so only the pairs go through every row.
pub(super) fn publish_tallies_sql(ph: &dyn Fn(usize) -> String) -> String {
    let dims = [Dim::Setting, Dim::AgePhase, Dim::Need, Dim::Pathway];
    // Each rollup's source: the first with one dimension more that holds
    // all of its own, or the live rows.
    let source = |kept: &[Dim]| -> String {
        ROLLUPS
            .iter()
            .position(|r| r.len() == kept.len() + 1 && kept.iter().all(|d| r.contains(d)))
            .map_or_else(|| "live".to_owned(), |i| format!("r{i}"))
    };
    let mut ctes = vec![format!(
        "live AS MATERIALIZED (SELECT * FROM live_tallies
             WHERE area_id = {} AND month > {} AND month <= {} AND n <> 0)",
        ph(1),
        ph(2),
        ph(3)
    )];
    // Sources first: the rollups with the most dimensions.
    let mut order: Vec<usize> = (0..ROLLUPS.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(ROLLUPS[*i].len()));
    for i in order {
        let kept = ROLLUPS[i];
        let select: Vec<String> = dims
            .iter()
            .map(|d| {
                if kept.contains(d) {
                    column(*d).to_owned()
                } else {
                    format!("'{ALL}' AS {}", column(*d))
                }
            })
            .collect();
        let group: String = kept.iter().map(|d| format!(", {}", column(*d))).collect();
        ctes.push(format!(
            "r{i} AS MATERIALIZED (SELECT area_id, form_id, question, month, form_version, {}, value,
                 SUM(n) AS n FROM {} GROUP BY area_id, form_id, question, month, form_version{group}, value)",
            select.join(", "),
            source(kept),
        ));
    }
    let rollups: Vec<String> = (0..ROLLUPS.len())
        .map(|i| {
            format!(
                "SELECT area_id, form_id, question, month, form_version, setting, age_phase, need,
                     pathway, value, CAST(n AS BIGINT) FROM r{i} WHERE n <> 0"
            )
        })
        .collect();
    format!(
        "INSERT INTO published_tallies
         (area_id, form_id, question, month, form_version, setting, age_phase, need, pathway, value, n)
         WITH {}
         {}",
        ctes.join(",\n"),
        rollups.join("\nUNION ALL\n")
    )
}

/// The rows of `published_quotes` for the text answers of the counted
/// responses of area `ph(1)` in the months `(ph(2), ph(3)]` (an `INSERT`).
pub(super) fn publish_quotes_sql(ph: &dyn Fn(usize) -> String) -> String {
    format!(
        "INSERT INTO published_quotes
         SELECT r.id, a.question, r.area_id, r.form_id, r.form_version, r.month,
             coalesce(r.setting, ''), coalesce(r.age_phase, ''), coalesce(r.need, ''),
             coalesce(r.pathway, ''), a.value_text
         FROM answers a JOIN responses r ON r.id = a.response_id
         WHERE r.area_id = {} AND r.counted AND a.kind = 'text' AND a.value_text IS NOT NULL
         AND r.month > {} AND r.month <= {}",
        ph(1),
        ph(2),
        ph(3)
    )
}

/// The free-text query (the published quotes of one question, with their
/// writers' groups, in its versions and months) and its parameters.
pub(super) fn free_text_sql(q: &TallyQuery, ph: &dyn Fn(usize) -> String) -> (String, Params) {
    let mut params = vec![q.area_id.clone(), q.question.clone()];
    let (_, versions) = version_keys(q);
    let versions = list(ph, &mut params, versions);
    let mut sql = format!(
        "SELECT setting, age_phase, need, pathway, form_version, NULLIF(text, '') FROM published_quotes
         WHERE area_id = {} AND question = {}
         AND form_id || '|' || form_version IN ({versions})",
        ph(1),
        ph(2)
    );
    if let Some((from, to)) = &q.months {
        params.push(from.clone());
        params.push(to.clone());
        sql += &format!(
            " AND month >= {} AND month <= {}",
            ph(params.len() - 1),
            ph(params.len())
        );
    }
    sql += " ORDER BY text";
    (sql, params)
}
