//! Where summaries go, checked before any model runs: output names that stay inside their
//! folder whatever the input is called, outputs that never replace an input, and a
//! destination that can actually be written.
//!
//! Owns: output file names, the is-it-an-input check, the writability probe. Must not
//! read documents or run models.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The output file name for an input named `name`: the name less its extension, plus
/// `.ext`. A stem that would be empty or only dots (`..txt`, `...txt`) keeps the whole name
/// (`..txt.json`), so that no input name can make `.`, `..` or a path.
pub(crate) fn output_name(name: &std::ffi::OsStr, ext: &str) -> OsString {
    let name = name.to_string_lossy();
    let stem = match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => &name[..],
    };
    let stem = if stem.trim_matches('.').is_empty() { &name[..] } else { stem };
    let stem = if stem.is_empty() { "stdin" } else { stem };
    // A name from the file system has no separator, but be sure.
    let stem: String = stem.chars().map(|c| if c == '/' || c == '\\' { '_' } else { c }).collect();
    OsString::from(format!("{stem}.{ext}"))
}

/// Whether `rel` is a plain relative path: only normal components, so `out.join(rel)` is
/// strictly inside `out`.
pub(crate) fn is_plain_relative(rel: &Path) -> bool {
    rel.components().next().is_some() && rel.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The identity of an existing file (device, inode), following links.
#[cfg(unix)]
fn identity(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(p: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

/// Refuses outputs that are (or resolve to) one of `inputs`, or that two inputs share.
/// `flag` names the option in the message (`-o`, `--out`).
pub(crate) fn check_not_inputs(pairs: &[(&Path, PathBuf)], flag: &str) -> Result<()> {
    let inputs: Vec<_> = pairs
        .iter()
        .filter(|(i, _)| *i != Path::new("-"))
        .filter_map(|(i, _)| identity(i).map(|id| (id, *i)))
        .collect();
    for (input, out) in pairs {
        if let Some(id) = identity(out) {
            if let Some((_, hit)) = inputs.iter().find(|(i, _)| *i == id) {
                return Err(Error::Usage(format!(
                    "{flag} {}: is an input ({}); the summary of {} would replace it",
                    out.display(),
                    hit.display(),
                    input.display()
                )));
            }
        }
    }
    for (k, (a, out)) in pairs.iter().enumerate() {
        if let Some((b, _)) = pairs[..k].iter().find(|(_, o)| o == out) {
            return Err(Error::Usage(format!(
                "{flag}: {} and {} would both be summarised to {}",
                b.display(),
                a.display(),
                out.display()
            )));
        }
    }
    Ok(())
}

/// Checks that `path` can be written as an output before any work is done: an existing
/// output must be a regular file, and its folder must take a new file.
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    if let Ok(m) = std::fs::metadata(path) {
        if m.is_dir() {
            return Err(Error::Usage(format!("{}: is a folder; name a file to write the summary to", path.display())));
        }
        if !m.is_file() {
            return Err(Error::Usage(format!(
                "{}: not a regular file; precis writes summaries to files",
                path.display()
            )));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_folder_writable(dir).map_err(|why| Error::input(path, format!("cannot write the summary here: {why}")))
}

/// Whether a new file can be made in `dir` (created, with its parents, if missing).
pub(crate) fn check_folder_writable(dir: &Path) -> std::result::Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create folder {}: {e}", dir.display()))?;
    tempfile::Builder::new().prefix(".precis-probe-").tempfile_in(dir).map(drop).map_err(|e| {
        // tempfile's message names the probe's own path: say only why.
        let e = e.to_string();
        let why = e.split(" at path \"").next().unwrap_or(&e);
        format!("folder {} does not take new files: {why}", dir.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn names_never_make_dots_or_paths() {
        let n = |s: &str| output_name(OsStr::new(s), "json").into_string().unwrap();
        assert_eq!(n("a.txt"), "a.json");
        assert_eq!(n("a.b.md"), "a.b.json");
        assert_eq!(n("..txt"), "..txt.json");
        assert_eq!(n("...txt"), "...txt.json");
        assert_eq!(n(".txt"), ".txt.json");
        assert_eq!(n("a..txt"), "a..json");
        assert_eq!(n("noext"), "noext.json");
        assert_eq!(n("-"), "-.json");
        for s in ["..txt", "...txt", ".", "..", ".txt", "a..txt"] {
            assert!(is_plain_relative(Path::new(&n(s))), "{s}");
        }
        assert!(!is_plain_relative(Path::new("..")));
        assert!(!is_plain_relative(Path::new("a/../b")));
        assert!(!is_plain_relative(Path::new("")));
    }

    #[test]
    fn outputs_onto_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, "x").unwrap();
        let fresh = dir.path().join("a.json");
        assert!(check_not_inputs(&[(&a, fresh.clone())], "-o").is_ok());
        let e = check_not_inputs(&[(&a, dir.path().join("./a.txt"))], "-o").unwrap_err().to_string();
        assert!(e.contains("is an input"), "{e}");
        let b = dir.path().join("a.md");
        std::fs::write(&b, "y").unwrap();
        let e = check_not_inputs(&[(&a, fresh.clone()), (&b, fresh)], "-o").unwrap_err().to_string();
        assert!(e.contains("would both be summarised"), "{e}");
    }
}
