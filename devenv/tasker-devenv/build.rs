//! Embeds the pgmq PostgreSQL extension (pure SQL: its control file and
//! install script) from the sources of the `pgmq` crate, a build-dependency
//! cargo has unpacked into its registry. The binary writes them into a
//! server's extension folder (`tasker-devenv install-pgmq`), so no cargo or
//! network is needed where it runs.

use std::path::{Path, PathBuf};

const CRATE: &str = "pgmq-0.34.0-alpha.7";

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("CARGO_HOME or HOME must be set to find the pgmq crate's sources")
}

/// The unpacked crate, in whichever registry folder cargo used.
fn crate_dir() -> PathBuf {
    let registry = cargo_home().join("registry").join("src");
    let found = std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", registry.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path().join(CRATE))
        .find(|dir| dir.is_dir());
    found.unwrap_or_else(|| panic!("{CRATE} is not unpacked under {}; run `cargo fetch`", registry.display()))
}

fn main() {
    let embedded = crate_dir().join("src/install/embedded");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (from, to) in [("pgmq.control", "pgmq.control"), ("sql/pgmq.sql", "pgmq.sql")] {
        let source = embedded.join(from);
        std::fs::copy(&source, out.join(to)).unwrap_or_else(|e| panic!("cannot copy {}: {e}", source.display()));
        println!("cargo:rerun-if-changed={}", source.display());
    }
    let license = crate_dir().join("LICENSE");
    std::fs::copy(&license, out.join("pgmq-LICENSE")).unwrap_or_else(|e| panic!("cannot copy {}: {e}", license.display()));
    println!("cargo:rerun-if-changed=build.rs");
}
