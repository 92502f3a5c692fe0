//! Every built-in form written as an `.xlsx` XLSForm and read back is the
//! same form, and so is its grid.

use hark_core::form::builtin_forms;
use hark_xlsform::{export, export_file, import, import_file};

#[test]
fn every_builtin_form_round_trips_through_xlsx() {
    let forms = builtin_forms().expect("built-in forms load");
    assert!(forms.len() >= 10);
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

#[test]
fn a_form_in_three_languages_round_trips() {
    // A built-in form with every text also in Welsh and (partly) in Polish.
    let mut form = builtin_forms()
        .expect("built-in forms")
        .into_iter()
        .find(|f| f.id == "feeling-safe-child")
        .expect("feeling-safe-child");
    form.languages = vec!["en".into(), "cy".into(), "pl".into()];
    let add = |t: &mut hark_core::form::Text, n: usize| {
        let en = t.0.get("en").cloned().unwrap_or_default();
        t.0.insert("cy".into(), format!("(cy) {en}"));
        if n.is_multiple_of(2) {
            t.0.insert("pl".into(), format!("(pl) {en}"));
        }
    };
    add(&mut form.title, 0);
    if let Some(t) = form.intro.as_mut() {
        add(t, 1);
    }
    for (n, q) in form.questions.iter_mut().enumerate() {
        add(&mut q.label, n);
        for t in [&mut q.hint, &mut q.easy_read, &mut q.read_aloud]
            .into_iter()
            .flatten()
        {
            add(t, n + 1);
        }
    }
    for (n, t) in form.safeguarding.iter_mut().enumerate() {
        add(&mut t.guidance, n);
    }
    form.validate().expect("still valid");
    let bytes = export_file(&form).expect("export");
    let back = import_file(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.form, form);
}
