//! The pgmq extension's files, embedded at build time (build.rs), written
//! into a PostgreSQL installation's extension folder: `CREATE EXTENSION pgmq`
//! (which tasker's migrations run) then works on a server no package ships
//! pgmq for.

use std::path::Path;

use anyhow::{anyhow, Context, Result};

const CONTROL: &str = include_str!(concat!(env!("OUT_DIR"), "/pgmq.control"));
const SCRIPT: &str = include_str!(concat!(env!("OUT_DIR"), "/pgmq.sql"));
const LICENSE: &str = include_str!(concat!(env!("OUT_DIR"), "/pgmq-LICENSE"));

/// The version the control file installs (`default_version`).
pub fn version() -> Result<&'static str> {
    CONTROL
        .lines()
        .find_map(|line| line.trim().strip_prefix("default_version"))
        .and_then(|rest| rest.split('\'').nth(1))
        .ok_or_else(|| anyhow!("the embedded pgmq.control names no default_version"))
}

/// Writes pgmq.control, pgmq--<version>.sql and pgmq's license into
/// `extension_dir` (idempotent).
pub fn install(extension_dir: &Path) -> Result<()> {
    if !extension_dir.is_dir() {
        return Err(anyhow!("{} is not a folder; give PostgreSQL's share/postgresql/extension folder", extension_dir.display()));
    }
    let version = version()?;
    for (name, text) in [("pgmq.control".to_string(), CONTROL), (format!("pgmq--{version}.sql"), SCRIPT), ("pgmq.LICENSE".to_string(), LICENSE)] {
        let path = extension_dir.join(&name);
        if std::fs::read_to_string(&path).is_ok_and(|existing| existing == text) {
            continue;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("PGMQ {version} INSTALLED");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_extension_is_whole() {
        assert_eq!(super::version().unwrap(), "1.13.0");
        assert!(super::SCRIPT.contains("CREATE FUNCTION pgmq.read("));
        assert!(super::LICENSE.contains("PostgreSQL License"));
        let dir = std::env::temp_dir().join(format!("pgmq-install-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        super::install(&dir).unwrap();
        assert!(dir.join("pgmq--1.13.0.sql").is_file() && dir.join("pgmq.control").is_file());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
