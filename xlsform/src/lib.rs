//! XLSForm for hark: the spreadsheets form authors already write (ODK,
//! KoboToolbox, SurveyCTO) read into hark's form model, and any hark form
//! written back as one. The form model is the core's and does not grow
//! here: what an XLSForm says that the model cannot hold is refused, every
//! problem at once with its sheet, row and column.
//!
//! `import`/`export` work on a grid of cells (`grid`), pure; `io` is the
//! thin layer over calamine (read `.xlsx`, `.ods`) and rust_xlsxwriter
//! (write `.xlsx`). `expr` reads expressions, `logic` maps them onto
//! conditions and bounds, `lang` reads languages in column headers,
//! `table` a sheet's header and cells, `types` the `type` column.

mod error;
mod export;
mod expr;
mod grid;
mod import;
mod io;
mod lang;
mod logic;
mod table;
mod types;

pub use error::{ExportError, ImportError, Located, Location, Problem, Warning, column_letters};
pub use export::export;
pub use grid::{Sheet, Workbook};
pub use import::{Imported, import, read_version};

use hark_core::form::Form;

/// Reads an `.xlsx` or `.ods` XLSForm.
///
/// # Errors
/// Every problem found, located; a file that is no workbook is one problem.
pub fn import_file(bytes: &[u8]) -> Result<Imported, ImportError> {
    let wb = io::read(bytes).map_err(|p| ImportError {
        problems: vec![Located {
            at: Location::file(),
            what: p,
        }],
        warnings: Vec::new(),
    })?;
    import(&wb)
}

/// Writes a grid as an `.xlsx` file (the header row of each sheet bold).
///
/// # Errors
/// When the spreadsheet writer fails.
pub fn write_workbook(wb: &Workbook) -> Result<Vec<u8>, ExportError> {
    Ok(io::write(wb)?)
}

/// Writes a form as an `.xlsx` XLSForm.
///
/// # Errors
/// See [`ExportError`].
pub fn export_file(form: &Form) -> Result<Vec<u8>, ExportError> {
    Ok(io::write(&export(form)?)?)
}
