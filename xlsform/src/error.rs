//! What can be wrong with an XLSForm, and where. An author fixes a form from
//! this report alone, so every problem names its sheet, its row as the
//! spreadsheet shows it (1-based), its column, and what is wrong; the whole
//! report is collected before anything is refused.

use std::fmt;

use hark_core::form::FormError;

/// A place in the workbook: a sheet, and where known a row and a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The sheet's name as written in the workbook (`survey`, `choices`,
    /// ...); empty for the file as a whole.
    pub sheet: String,
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: Option<u32>,
    /// The column as the spreadsheet numbers it (A is 1).
    pub col: Option<u32>,
    /// The column's header as written (`relevant`, `label::English (en)`).
    pub column: Option<String>,
}

impl Location {
    /// The file as a whole.
    pub fn file() -> Self {
        Self::sheet("")
    }

    /// A whole sheet.
    pub fn sheet(sheet: &str) -> Self {
        Self {
            sheet: sheet.to_owned(),
            row: None,
            col: None,
            column: None,
        }
    }

    /// The cell in spreadsheet notation (`F4`), when row and column are known.
    pub fn cell(&self) -> Option<String> {
        Some(format!("{}{}", column_letters(self.col?), self.row?))
    }
}

/// `1` → `A`, `27` → `AA`.
pub fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        out.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        col = (col - 1) / 26;
    }
    out.iter().rev().collect()
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sheet.is_empty() {
            return write!(f, "the file");
        }
        write!(f, "sheet '{}'", self.sheet)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        match (self.col, &self.column) {
            (Some(c), Some(name)) => write!(f, ", column {} ({name})", column_letters(c)),
            (None, Some(name)) => write!(f, ", column '{name}'"),
            (Some(c), None) => write!(f, ", column {}", column_letters(c)),
            (None, None) => Ok(()),
        }
    }
}

/// A problem or a warning with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// Where.
    pub at: Location,
    /// What.
    pub what: T,
}

impl<T: fmt::Display> fmt::Display for Located<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

/// One thing that stops an XLSForm from becoming a hark form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The bytes are not an `.xlsx` or `.ods` workbook.
    #[error("cannot be read as a spreadsheet (.xlsx or .ods): {0}")]
    Unreadable(String),
    /// A sheet the format needs is missing.
    #[error("the workbook has no '{0}' sheet")]
    MissingSheet(&'static str),
    /// A column the sheet needs is missing.
    #[error("the sheet has no '{0}' column")]
    MissingColumn(&'static str),
    /// A sheet with more rows than hark reads.
    #[error("the sheet has {rows} rows; hark reads at most {max}")]
    TooLarge {
        /// Rows with a value.
        rows: usize,
        /// The most read.
        max: usize,
    },
    /// The survey sheet has no question rows.
    #[error("the survey sheet has no questions")]
    NoQuestions,
    /// A cell that must have a value is empty.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// Something XLSForm has that hark's form model cannot hold.
    #[error("{what} is not supported: {why}")]
    Unsupported {
        /// What the author wrote (`type 'begin repeat'`, `column 'calculation'`).
        what: String,
        /// Why, or what to do instead.
        why: &'static str,
    },
    /// A `type` that is not an XLSForm type at all.
    #[error("type '{0}' is not a question type hark knows")]
    UnknownType(String),
    /// A select naming a list the choices sheet does not have.
    #[error("choice list '{0}' is not on the choices sheet")]
    UnknownList(String),
    /// A value of the wrong shape.
    #[error("'{value}' is not {expected}")]
    BadValue {
        /// What the cell says.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A name used twice where it must be unique.
    #[error("'{name}' is already used on row {first_row}")]
    Duplicate {
        /// The name.
        name: String,
        /// The row that used it first.
        first_row: u32,
    },
    /// A `begin group` inside an open group: hark's sections do not nest.
    #[error(
        "groups do not nest in hark: the group begun on row {first_row} is still open; end it first"
    )]
    Nested {
        /// The open group's row.
        first_row: u32,
    },
    /// An `end group` with no group open.
    #[error("'end group' with no group open")]
    UnopenedGroup,
    /// A group with no question rows.
    #[error("the group begun on row {first_row} has no questions")]
    EmptyGroup {
        /// The group's row.
        first_row: u32,
    },
    /// Two columns give the same text in the same language.
    #[error("column duplicates column {0}: both give the same text in one language")]
    DuplicateColumn(String),
    /// A language column whose language cannot be read.
    #[error("language '{0}' has no code; write it as 'Name (code)', e.g. 'label::English (en)'")]
    LanguageCode(String),
    /// An expression that cannot be read.
    #[error("cannot read '{expr}': {message}")]
    Syntax {
        /// The expression.
        expr: String,
        /// What is wrong with it.
        message: String,
    },
    /// An expression that is read but that hark's conditions cannot express.
    #[error("'{expr}' cannot be expressed in a hark form: {why}")]
    Inexpressible {
        /// The expression.
        expr: String,
        /// Why.
        why: String,
    },
    /// An expression naming a question that is not (yet) on the form.
    #[error("'{expr}' refers to ${{{question}}}, which is not {where_}")]
    Reference {
        /// The expression.
        expr: String,
        /// The name referred to.
        question: String,
        /// "an earlier question" or "a question".
        where_: &'static str,
    },
    /// The form read from the sheets breaks a rule of hark's form format.
    #[error("{0}")]
    Invalid(FormError),
}

/// Something the import left out or assumed, which does not stop it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    /// A metadata question (`start`, `deviceid`, ...): hark records its own.
    #[error("metadata type '{0}' is ignored: hark records when and on which device itself")]
    Metadata(String),
    /// A column hark does not read.
    #[error("column '{0}' is not read by hark and is ignored")]
    IgnoredColumn(String),
    /// A language named without a code, whose code was taken from its name.
    #[error("language '{name}' is read as '{code}'; write 'label::{name} ({code})' to say so")]
    LanguageGuessed {
        /// The name written.
        name: String,
        /// The code used.
        code: &'static str,
    },
    /// An `appearance` hark does not use (only a group's `field-list` is).
    #[error("appearance '{0}' is ignored: hark uses only 'field-list', on a group")]
    IgnoredAppearance(String),
    /// No `form_title`: the form id is the title.
    #[error("no form_title: the form is titled '{0}'")]
    DefaultTitle(String),
    /// No `theme`: the form reports under "other".
    #[error("no theme: the form reports under 'other'")]
    DefaultTheme,
}

/// Every problem found in an XLSForm, and the warnings beside them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    /// Every problem, sheet by sheet.
    pub problems: Vec<Located<Problem>>,
    /// What would have been ignored or assumed.
    pub warnings: Vec<Located<Warning>>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the XLSForm has {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Why a form cannot be written as an XLSForm.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A condition with no XLSForm expression that reads back as the same
    /// condition (an empty `all`/`any`, a one-element `all`/`any`/`one_of`).
    #[error(
        "question or trigger '{0}': its condition has no XLSForm expression that reads back the same"
    )]
    Condition(String),
    /// The spreadsheet writer failed.
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
