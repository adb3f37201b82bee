//! Prints the state schema of classes in a site-packages directory (a development aid):
//! `cargo run -p pyenv --example schema -- SITE module:Class...`.
fn main() {
    let mut args = std::env::args().skip(1);
    let site = std::path::PathBuf::from(args.next().expect("site-packages"));
    let env = pyenv::Environment::from_site_packages(&[site], (3, 11)).expect("environment");
    let mut r = pyenv::Resolver::new(&env);
    let schemas = pyenv::Schemas::new();
    for a in args {
        let (m, c) = a.split_once(':').expect("module:Class");
        let t = std::time::Instant::now();
        let s = schemas.schema(&mut r, m, c);
        println!("{a} ({:?}): {s:#?}", t.elapsed());
    }
}
