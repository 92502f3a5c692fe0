//! The example XLSForms in `examples/xlsform/`, which the README's author's
//! guide points to, are real `.xlsx` files made by the export, and each is
//! exactly the built-in form it is named after: an author who opens one
//! sees what hark itself would write. `HARK_WRITE_EXAMPLES=1 cargo test -p
//! hark-xlsform --test examples` writes them again after a built-in form
//! changes.

use hark_core::form::builtin_form;
use hark_xlsform::{export_file, import_file};

/// The examples: a child's form (faces, symbols, easy read, read aloud,
/// skip logic, safeguarding) and a parent's (the Friends and Family Test).
const EXAMPLES: &[&str] = &["feeling-safe-child", "service-satisfaction"];

#[test]
fn the_example_xlsforms_are_the_builtin_forms() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/xlsform");
    let write = std::env::var_os("HARK_WRITE_EXAMPLES").is_some();
    for id in EXAMPLES {
        let form = builtin_form(id).expect("a built-in form");
        let path = dir.join(format!("{id}.xlsx"));
        if write {
            std::fs::write(&path, export_file(&form).expect("export")).expect("write");
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (HARK_WRITE_EXAMPLES=1 writes it)", path.display())
        });
        let imported = import_file(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            imported.form,
            form,
            "{} is not the built-in form: write it again with HARK_WRITE_EXAMPLES=1",
            path.display()
        );
        assert!(
            imported.warnings.is_empty(),
            "{id}: {:?}",
            imported.warnings
        );
    }
}
