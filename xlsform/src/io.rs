//! The spreadsheet files at the edge: `.xlsx` and `.ods` read into a grid
//! with calamine, a grid written as `.xlsx` with rust_xlsxwriter. Nothing
//! here knows XLSForm.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use rust_xlsxwriter::{Format, Workbook as XlsxBook};

use crate::error::Problem;
use crate::grid::{Sheet, Workbook};

/// Largest number of cells read from one sheet; a larger sheet is refused
/// rather than allocated.
const MAX_CELLS: usize = 2_000_000;

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Spreadsheets store every number as a float: 2024031501 and 3 are
        // read back as written.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads an `.xlsx` or `.ods` file (told apart by its content).
///
/// calamine can panic on a damaged file (0.38 multiplies a cell reference's
/// column without checking for overflow, found by `never_panics.rs`); the
/// file comes from an author's upload, so a panic is caught here and is
/// one more unreadable file. Nothing is shared with the reader but the
/// bytes, so nothing is left half-changed.
///
/// # Errors
/// [`Problem::Unreadable`] when the bytes are not such a workbook.
pub fn read(bytes: &[u8]) -> Result<Workbook, Problem> {
    std::panic::catch_unwind(|| read_unguarded(bytes)).unwrap_or_else(|_| {
        Err(Problem::Unreadable(
            "the spreadsheet reader failed on this file; it may be damaged".into(),
        ))
    })
}

/// Most a workbook may unpack to. An XLSForm of 2,000 rows in a few
/// languages unpacks to well under 10 MB; a file that claims more is
/// refused before the spreadsheet reader inflates it (a "zip bomb" of a
/// few megabytes can unpack to gigabytes).
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// Refuses a zip file (`.xlsx` and `.ods` are both) whose entries declare
/// more than [`MAX_UNPACKED`] bytes in all. Bytes that are no zip file are
/// left to the reader, which names what it expected.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), Problem> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let size = archive.by_index_raw(i).map(|f| f.size()).unwrap_or(0);
        total = total.saturating_add(size);
    }
    if total > MAX_UNPACKED {
        return Err(Problem::Unreadable(format!(
            "the file unpacks to {} MB; hark reads workbooks of at most {} MB",
            total / (1024 * 1024),
            MAX_UNPACKED / (1024 * 1024)
        )));
    }
    Ok(())
}

fn read_unguarded(bytes: &[u8]) -> Result<Workbook, Problem> {
    check_unpacked_size(bytes)?;
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| Problem::Unreadable(e.to_string()))?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| Problem::Unreadable(format!("sheet '{name}': {e}")))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let (r0, c0) = (r0 as usize, c0 as usize);
        let (h, w) = range.get_size();
        if (r0 + h).saturating_mul(c0 + w) > MAX_CELLS {
            return Err(Problem::Unreadable(format!("sheet '{name}' is too large")));
        }
        let mut rows = vec![Vec::new(); r0];
        for row in range.rows() {
            let mut cells = vec![String::new(); c0];
            cells.extend(row.iter().map(text));
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            rows.push(cells);
        }
        sheets.push(Sheet { name, rows });
    }
    Ok(Workbook { sheets })
}

/// Widest a column is made to fit its text (in pixels); long labels wrap
/// past it in the author's spreadsheet instead of making it unreadable.
const MAX_COLUMN_PIXELS: u32 = 400;

/// Writes a grid as an `.xlsx` file: the header row of each sheet in bold
/// and frozen, each column as wide as its text (up to a limit).
///
/// # Errors
/// When the writer fails (a sheet name Excel refuses, say).
pub fn write(wb: &Workbook) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = XlsxBook::new();
    let bold = Format::new().set_bold();
    for sheet in &wb.sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (r, row) in sheet.rows.iter().enumerate() {
            let r =
                u32::try_from(r).map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
            for (c, cell) in row.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let c = u16::try_from(c)
                    .map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
                if r == 0 {
                    ws.write_string_with_format(r, c, cell, &bold)?;
                } else {
                    ws.write_string(r, c, cell)?;
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.set_autofit_max_width(MAX_COLUMN_PIXELS);
        ws.autofit();
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A "zip bomb": a small file whose sheet unpacks to more than hark
    /// reads is refused before anything inflates it.
    #[test]
    fn a_file_that_unpacks_to_too_much_is_refused_unread() {
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1))
                .large_file(true);
            zip.start_file("xl/worksheets/sheet1.xml", options)
                .expect("entry");
            let chunk = vec![b' '; 1024 * 1024];
            for _ in 0..65 {
                zip.write_all(&chunk).expect("write");
            }
            zip.finish().expect("finish");
        }
        let bytes = out.into_inner();
        assert!(
            bytes.len() < 1024 * 1024,
            "the file itself is small: {}",
            bytes.len()
        );
        match read(&bytes) {
            Err(Problem::Unreadable(why)) => assert!(why.contains("unpacks to 65 MB"), "{why}"),
            other => panic!("not refused: {other:?}"),
        }
    }
}
