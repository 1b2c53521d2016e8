//! The README of the standard library's templates documents the context the checker knows:
//! its table of variables is `context::markdown_table()`, line for line.

use std::path::Path;

use relance_templates::context::markdown_table;

#[test]
fn the_readme_table_is_the_context_table() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scenarios/templates/README.md");
    let readme = std::fs::read_to_string(&path).expect("README");
    let table = markdown_table();
    assert!(
        readme.contains(&table),
        "the table of variables in {} differs from relance_templates::context::CONTEXT; it should read:\n\n{table}",
        path.display()
    );
}
