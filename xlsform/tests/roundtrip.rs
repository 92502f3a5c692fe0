//! Every built-in form written as an `.xlsx` XLSForm and read back is the
//! same form, and so is its grid.

use hark_core::form::builtin_forms;
use hark_xlsform::{export, export_file, import, import_file};

#[test]
fn every_builtin_form_round_trips_through_xlsx() {
    let forms = builtin_forms().expect("built-in forms load");
    assert!(forms.len() >= 8);
    for form in forms {
        let grid = export(&form).unwrap_or_else(|e| panic!("{}: {e}", form.id));
        let back = import(&grid).unwrap_or_else(|e| panic!("{}: {e}", form.id));
        assert_eq!(back.form, form, "{} through the grid", form.id);
        assert!(back.warnings.is_empty(), "{}: {:?}", form.id, back.warnings);

        let bytes = export_file(&form).unwrap_or_else(|e| panic!("{}: {e}", form.id));
        let back = import_file(&bytes).unwrap_or_else(|e| panic!("{}: {e}", form.id));
        assert_eq!(back.form, form, "{} through .xlsx", form.id);
    }
}
