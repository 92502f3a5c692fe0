//! A workbook as a grid of text cells: what the import reads and the export
//! writes. Keeping the XLSForm logic on this plain data (and the spreadsheet
//! crates at the edge, in `io.rs`) lets it be tested without files.

/// A workbook: its sheets in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workbook {
    /// The sheets.
    pub sheets: Vec<Sheet>,
}

/// One sheet: `rows[0]` is spreadsheet row 1, `rows[r][0]` column A.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sheet {
    /// The sheet's name.
    pub name: String,
    /// The cells, as text; rows may be of different lengths.
    pub rows: Vec<Vec<String>>,
}

impl Workbook {
    /// The sheet called `name`, ignoring case and surrounding spaces.
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(name))
    }
}

impl Sheet {
    /// A sheet from rows of string slices (for tests and the export).
    pub fn new(name: &str, rows: &[&[&str]]) -> Self {
        Self {
            name: name.to_owned(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
        }
    }
}
