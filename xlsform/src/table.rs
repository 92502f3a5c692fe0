//! A sheet with its header read: which column holds what, in which
//! language, and where each cell is, so that every problem can name its
//! cell; and the report problems and warnings are collected in.

use std::collections::{BTreeMap, HashMap};

use hark_core::form::Text;

use crate::error::{Located, Location, Problem, Warning};
use crate::grid::Sheet;
use crate::lang::{self, LangName};

/// The language of a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ColLang {
    /// No `::Language`: the default language.
    Default,
    /// A language by code.
    Code(String),
    /// A language that could not be read (already reported).
    Bad,
}

#[derive(Clone, Debug)]
pub(crate) struct Col {
    pub(crate) idx: usize,
    pub(crate) header: String,
    pub(crate) base: String,
    pub(crate) lang: ColLang,
}

/// A sheet with its header read.
pub(crate) struct Table<'a> {
    pub(crate) sheet: &'a Sheet,
    pub(crate) header: usize,
    pub(crate) cols: Vec<Col>,
}

pub(crate) fn row_number(idx: usize) -> u32 {
    u32::try_from(idx).unwrap_or(u32::MAX).saturating_add(1)
}

fn col_number(idx: usize) -> u32 {
    row_number(idx)
}

impl<'a> Table<'a> {
    pub(crate) fn read(sheet: &'a Sheet, out: &mut Report) -> Self {
        let header = sheet
            .rows
            .iter()
            .position(|r| r.iter().any(|c| !c.trim().is_empty()))
            .unwrap_or(0);
        let mut cols = Vec::new();
        if let Some(row) = sheet.rows.get(header) {
            for (idx, cell) in row.iter().enumerate() {
                let text = cell.trim();
                if text.is_empty() {
                    continue;
                }
                let (base, lang_part) = split_header(text);
                let lang = match lang_part {
                    None => ColLang::Default,
                    Some(spec) => match lang::read(&spec) {
                        LangName::Code(c) => ColLang::Code(c),
                        LangName::Guessed(code) => {
                            out.warn(
                                Location {
                                    sheet: sheet.name.clone(),
                                    row: Some(row_number(header)),
                                    col: Some(col_number(idx)),
                                    column: Some(text.to_owned()),
                                },
                                Warning::LanguageGuessed {
                                    name: spec.trim().to_owned(),
                                    code,
                                },
                            );
                            ColLang::Code(code.to_owned())
                        }
                        LangName::Unknown => {
                            out.problem(
                                Location {
                                    sheet: sheet.name.clone(),
                                    row: Some(row_number(header)),
                                    col: Some(col_number(idx)),
                                    column: Some(text.to_owned()),
                                },
                                Problem::LanguageCode(spec.trim().to_owned()),
                            );
                            ColLang::Bad
                        }
                    },
                };
                cols.push(Col {
                    idx,
                    header: text.to_owned(),
                    base,
                    lang,
                });
            }
        }
        Self {
            sheet,
            header,
            cols,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.sheet.name
    }

    /// Indexes of the rows after the header with any value.
    pub(crate) fn rows(&self) -> Vec<usize> {
        (self.header + 1..self.sheet.rows.len())
            .filter(|&r| self.sheet.rows[r].iter().any(|c| !c.trim().is_empty()))
            .collect()
    }

    pub(crate) fn cell(&self, row: usize, col: &Col) -> &'a str {
        self.sheet
            .rows
            .get(row)
            .and_then(|r| r.get(col.idx))
            .map_or("", |s| s.trim())
    }

    pub(crate) fn at(&self, row: usize, col: &Col) -> Location {
        Location {
            sheet: self.sheet.name.clone(),
            row: Some(row_number(row)),
            col: Some(col_number(col.idx)),
            column: Some(col.header.clone()),
        }
    }

    /// Where a row is, at a named column if the sheet has it.
    pub(crate) fn at_named(&self, row: usize, base: &str) -> Location {
        match self.col(base) {
            Some(c) => self.at(row, c),
            None => Location {
                sheet: self.sheet.name.clone(),
                row: Some(row_number(row)),
                col: None,
                column: None,
            },
        }
    }

    /// Where a row is, at the first column of a (possibly per-language)
    /// text, or at `name` when the sheet has no such column.
    pub(crate) fn at_text(&self, row: usize, base: &str) -> Location {
        match self.cols.iter().find(|c| c.base == base) {
            Some(c) => self.at(row, c),
            None => self.at_named(row, "name"),
        }
    }

    pub(crate) fn col(&self, base: &str) -> Option<&Col> {
        self.cols
            .iter()
            .find(|c| c.base == base && c.lang == ColLang::Default)
    }

    /// The value of a language-free column, and its column.
    pub(crate) fn get(&self, row: usize, base: &str) -> Option<(&'a str, &Col)> {
        let col = self.col(base)?;
        let v = self.cell(row, col);
        (!v.is_empty()).then_some((v, col))
    }

    /// The text of a column in every language, `None` when every cell is
    /// empty.
    pub(crate) fn text(&self, row: usize, base: &str, default: &str) -> Option<Text> {
        let mut text = BTreeMap::new();
        for col in self.cols.iter().filter(|c| c.base == base) {
            let lang = match &col.lang {
                ColLang::Default => default,
                ColLang::Code(c) => c.as_str(),
                ColLang::Bad => continue,
            };
            let v = self.cell(row, col);
            if !v.is_empty() {
                text.insert(lang.to_owned(), v.to_owned());
            }
        }
        (!text.is_empty()).then_some(Text(text))
    }

    /// Two columns giving one text in one language.
    pub(crate) fn check_duplicate_columns(&self, default: &str, out: &mut Report) {
        let mut seen: HashMap<(&str, &str), &Col> = HashMap::new();
        for col in &self.cols {
            let lang = match &col.lang {
                ColLang::Default => default,
                ColLang::Code(c) => c.as_str(),
                ColLang::Bad => continue,
            };
            if let Some(first) = seen.get(&(col.base.as_str(), lang)) {
                out.problem(
                    self.at(self.header, col),
                    Problem::DuplicateColumn(crate::error::column_letters(col_number(first.idx))),
                );
            } else {
                seen.insert((col.base.as_str(), lang), col);
            }
        }
    }

    /// Columns hark refuses (when any cell has a value) or ignores.
    pub(crate) fn check_columns(
        &self,
        known: &[&str],
        refused: &[(&str, &'static str)],
        out: &mut Report,
    ) {
        let rows = self.rows();
        for col in &self.cols {
            if known.contains(&col.base.as_str()) {
                continue;
            }
            let used: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| !self.cell(r, col).is_empty())
                .collect();
            if used.is_empty() {
                continue;
            }
            if let Some((_, why)) = refused.iter().find(|(name, _)| *name == col.base) {
                for r in used {
                    out.problem(
                        self.at(r, col),
                        Problem::Unsupported {
                            what: format!("column '{}'", col.base),
                            why,
                        },
                    );
                }
            } else {
                out.warn(
                    self.at(self.header, col),
                    Warning::IgnoredColumn(col.header.clone()),
                );
            }
        }
    }
}

/// `label::English (en)` → (`label`, `English (en)`); `media::image` keeps
/// its `::`; names are lowercased and `list name` is `list_name`.
pub(crate) fn split_header(header: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = header.split("::").collect();
    let (base, rest) = if parts.len() >= 2 && parts[0].trim().eq_ignore_ascii_case("media") {
        (format!("media::{}", parts[1].trim()), &parts[2..])
    } else {
        (parts[0].trim().to_owned(), &parts[1..])
    };
    let base = base.to_lowercase().replace(' ', "_");
    let lang = (!rest.is_empty()).then(|| rest.join("::"));
    (base, lang)
}

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) problems: Vec<Located<Problem>>,
    pub(crate) warnings: Vec<Located<Warning>>,
}

impl Report {
    pub(crate) fn problem(&mut self, at: Location, what: Problem) {
        self.problems.push(Located { at, what });
    }

    pub(crate) fn warn(&mut self, at: Location, what: Warning) {
        self.warnings.push(Located { at, what });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_base_and_language() {
        assert_eq!(
            split_header("label::English (en)"),
            ("label".into(), Some("English (en)".into()))
        );
        assert_eq!(split_header("media::image"), ("media::image".into(), None));
        assert_eq!(
            split_header("media::image::Welsh (cy)"),
            ("media::image".into(), Some("Welsh (cy)".into()))
        );
        assert_eq!(split_header("List Name"), ("list_name".into(), None));
    }
}
