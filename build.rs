//! Embeds every case file under `cases/` into the binary, so an installed
//! `mcp-conform` carries its whole case library.

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let cases = root.join("cases");
    println!("cargo:rerun-if-changed=cases");
    let mut files = Vec::new();
    collect(&cases, &mut files);
    files.sort();
    let mut out = String::from("/// (path relative to the crate, contents) of every embedded case file.\npub static CASE_FILES: &[(&str, &str)] = &[\n");
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        out.push_str(&format!("    ({rel:?}, include_str!({:?})),\n", f.display().to_string()));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_cases.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}
