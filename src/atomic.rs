//! Atomic output files: write to a temporary file in the destination's folder, then
//! rename over the destination, so a reader never sees a half-written file. Outputs get
//! the mode of an ordinary new file (0666 less the umask), and a temporary file in flight
//! is known to `crate::interrupt`, which removes it if the run is stopped.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating parent folders as needed.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut b = tempfile::Builder::new();
    b.prefix(".precis-").suffix(".tmp");
    #[cfg(unix)]
    b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = b.tempfile_in(dir).map_err(|e| Error::io(path, e))?;
    let tmp_path = tmp.path().to_path_buf();
    crate::interrupt::temp_created(&tmp_path);
    let done = tmp
        .write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))
        .and_then(|()| tmp.persist(path).map(drop).map_err(|e| Error::io(path, e.error)));
    crate::interrupt::temp_done(&tmp_path);
    done
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/out.json");
        super::write(&p, b"one").unwrap();
        super::write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temp files left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // SAFETY: reads the umask back at once (this test sets no other).
            let umask = unsafe {
                let m = libc::umask(0o022);
                libc::umask(m);
                m
            } as u32;
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o666 & !umask);
        }
    }
}
