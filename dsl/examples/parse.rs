fn main() {
    let path = std::env::args().nth(1).expect("path");
    let src = std::fs::read_to_string(&path).unwrap();
    let p = relance_dsl::syntax::parse(&src);
    println!(
        "{}",
        relance_dsl::diagnostics::render(&p.diagnostics, &path, &src, false)
    );
    println!("items: {}", p.file.items.len());
    if std::env::args().nth(2).is_some() {
        println!("{:#?}", p.file);
    }
}
