//! The spreadsheet files at the edge: `.xlsx` and `.ods` read into a grid
//! with calamine, a grid written as `.xlsx` with rust_xlsxwriter. Nothing
//! here knows XLSForm.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Sheets, open_workbook_auto_from_rs};
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

/// Measures a zip file (`.xlsx` and `.ods` are both) before the reader
/// opens it: refused if its entries declare more than [`MAX_UNPACKED`]
/// bytes in all, and an `.ods` (the one with a `content.xml`) measured by
/// [`ods_cells`], since calamine reads its sheets as it opens it. Bytes
/// that are no zip file are left to the reader, which names what it
/// expected.
fn check_zip(bytes: &[u8]) -> Result<(), Problem> {
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
    if archive.index_for_name("content.xml").is_some() {
        ods_cells(&mut archive)?;
    }
    Ok(())
}

/// The furthest row and column a sheet's cell may be at (XLSForms are a
/// few thousand rows of a few dozen columns; a cell at XFD1048576 would
/// make calamine build a grid of seventeen billion cells).
const MAX_ROW: u32 = 100_000;
const MAX_COL: u32 = 1_000;

fn read_unguarded(bytes: &[u8]) -> Result<Workbook, Problem> {
    check_zip(bytes)?;
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| Problem::Unreadable(e.to_string()))?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let rows = match &mut book {
            // Cell by cell: nothing is built before each cell's place is
            // checked.
            Sheets::Xlsx(x) => xlsx_rows(x, &name)?,
            other => range_rows(other, &name)?,
        };
        sheets.push(Sheet { name, rows });
    }
    Ok(Workbook { sheets })
}

fn too_large(name: &str) -> Problem {
    Problem::Unreadable(format!(
        "sheet '{name}' is too large: hark reads {MAX_ROW} rows of {MAX_COL} columns, {MAX_CELLS} cells at most"
    ))
}

/// An `.xlsx` sheet read cell by cell, each checked against [`MAX_ROW`],
/// [`MAX_COL`] and [`MAX_CELLS`] before it is kept.
fn xlsx_rows(
    x: &mut calamine::Xlsx<Cursor<&[u8]>>,
    name: &str,
) -> Result<Vec<Vec<String>>, Problem> {
    let unreadable = |e: calamine::XlsxError| Problem::Unreadable(format!("sheet '{name}': {e}"));
    let mut reader = x.worksheet_cells_reader(name).map_err(unreadable)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut n = 0usize;
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        if cell.get_value().is_empty() {
            continue;
        }
        let (r, c) = cell.get_position();
        n += 1;
        if r >= MAX_ROW || c >= MAX_COL || n > MAX_CELLS {
            return Err(too_large(name));
        }
        let (r, c) = (r as usize, c as usize);
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        let row = &mut rows[r];
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text(&Data::from(cell.get_value().clone()));
    }
    for row in &mut rows {
        while row.last().is_some_and(String::is_empty) {
            row.pop();
        }
    }
    Ok(rows)
}

/// A sheet of another format read whole by calamine (for `.ods`, only
/// after [`ods_cells`] has measured it).
fn range_rows(book: &mut Sheets<Cursor<&[u8]>>, name: &str) -> Result<Vec<Vec<String>>, Problem> {
    let range = book
        .worksheet_range(name)
        .map_err(|e| Problem::Unreadable(format!("sheet '{name}': {e}")))?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let (r0, c0) = (r0 as usize, c0 as usize);
    let (h, w) = range.get_size();
    if (r0 + h).saturating_mul(c0 + w) > MAX_CELLS {
        return Err(too_large(name));
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
    Ok(rows)
}

/// Measures the cells calamine would build for an `.ods` workbook before
/// it builds them: a row counts as wide as its last cell with content
/// (repeated cells before it included) and as many times as it is
/// repeated. LibreOffice's trailing blank rows and columns (repeated,
/// without content) count nothing.
fn ods_cells(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<(), Problem> {
    use quick_xml::events::Event;
    use std::io::Read;
    let unreadable = |what: String| Problem::Unreadable(what);
    let mut xml = String::new();
    archive
        .by_name("content.xml")
        .map_err(|e| unreadable(format!("the .ods file's content: {e}")))?
        .read_to_string(&mut xml)
        .map_err(|e| unreadable(format!("the .ods file's content: {e}")))?;
    let repeat = |e: &quick_xml::events::BytesStart<'_>, attr: &str| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == attr)
            .and_then(|a| a.value.parse().ok())
            .unwrap_or(1)
    };
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut total, mut row_repeats, mut col, mut width) = (0u64, 1u64, 0u64, 0u64);
    let mut sheet = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| unreadable(format!("the .ods file's content: {e}")))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                total = total.saturating_add(row_repeats.saturating_mul(width));
                if total > MAX_CELLS as u64 {
                    return Err(too_large(&sheet));
                }
                (None, false)
            }
            Event::Eof => return Ok(()),
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        match e.name().as_ref() {
            "table:table" => {
                sheet = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == "table:name")
                    .map(|a| a.value.into_owned())
                    .unwrap_or_default();
            }
            "table:table-row" => {
                (row_repeats, col, width) = (repeat(e, "table:number-rows-repeated"), 0, 0);
                if empty {
                    row_repeats = 1;
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let n = repeat(e, "table:number-columns-repeated");
                let content = !empty
                    || e.attributes()
                        .flatten()
                        .any(|a| a.key.as_ref() == "office:value-type");
                col = col.saturating_add(n);
                if content {
                    width = col;
                }
            }
            _ => {}
        }
    }
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
