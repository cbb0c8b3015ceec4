//! Getting a document's bytes, bounded: only regular files (or stdin as `-`), never more
//! than the input limit, and a look at the first kilobytes (binary, UTF-16) before the
//! rest is read, so that a device, a FIFO or a huge binary file is refused at once.
//!
//! Owns: the input limit, file-type checks, the early sniff. Must not decode or parse.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The default input limit (`--max-input-bytes`): 32 MiB, some fifty books of text.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 32 << 20;

/// Bytes looked at before the rest of a file is read.
const SNIFF_BYTES: u64 = 8 << 10;

/// The bytes of `path` (stdin when `-`), at most `max` of them.
pub(super) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        return read_stream(std::io::stdin().lock(), path, max, 0);
    }
    // Checked before opening: opening a FIFO blocks until someone writes to it.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    check_kind(path, &meta)?;
    if meta.len() > max {
        return Err(too_big(path, max, Some(meta.len())));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    // The file may have been swapped between the two looks.
    check_kind(path, &file.metadata().map_err(|e| Error::io(path, e))?)?;
    read_stream(file, path, max, meta.len())
}

/// Refuses anything but a regular file, saying what it is.
fn check_kind(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    if meta.is_dir() {
        return Err(Error::input(path, "is a folder, not a file (precis batch summarises a folder)"));
    }
    #[cfg(unix)]
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else {
            "a special file"
        }
    };
    #[cfg(not(unix))]
    let kind = "a special file";
    Err(Error::input(path, format!("not a regular file ({kind}); precis reads regular files, or stdin given as -")))
}

fn too_big(path: &Path, max: u64, size: Option<u64>) -> Error {
    let size = size.map_or_else(|| "more".to_string(), |s| format!("{s} bytes"));
    Error::input(path, format!("larger than {max} bytes ({size}); --max-input-bytes raises the limit"))
}

/// Reads `r` to its end or to `max + 1` bytes, sniffing the first few kilobytes first.
fn read_stream(mut r: impl Read, path: &Path, max: u64, size_hint: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(size_hint.min(max) as usize + 1);
    (&mut r).take(SNIFF_BYTES.min(max + 1)).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
    if let Some(why) = not_text(&buf) {
        return Err(Error::input(path, why));
    }
    let left = (max + 1).saturating_sub(buf.len() as u64);
    r.take(left).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > max {
        return Err(too_big(path, max, None));
    }
    Ok(buf)
}

/// Why the start of a file shows it is not UTF-8 text, if it does.
pub(super) fn not_text(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Some("UTF-16 is not supported: convert the file to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)");
    }
    let head = &head[..head.len().min(SNIFF_BYTES as usize)];
    let nuls = head.iter().filter(|&&b| b == 0).count();
    if nuls == 0 {
        return None;
    }
    // ASCII text in UTF-16 without a byte-order mark: a NUL in every other byte.
    let (even, odd) = head.iter().enumerate().fold((0, 0), |(e, o), (i, &b)| match (b, i % 2) {
        (0, 0) => (e + 1, o),
        (0, _) => (e, o + 1),
        _ => (e, o),
    });
    if head.len() >= 16 && even.max(odd) * 10 >= head.len() * 4 && even.min(odd) * 20 < head.len() {
        return Some("looks like UTF-16 text without a byte-order mark; UTF-16 is not supported: convert it to UTF-8");
    }
    Some("binary file, not text")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_utf16_and_binary() {
        assert!(not_text(b"\xff\xfeH\0i\0").unwrap().starts_with("UTF-16"));
        let wide: Vec<u8> = "Hello there, world".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert!(not_text(&wide).unwrap().contains("UTF-16"));
        assert_eq!(not_text(b"ab\0cd"), Some("binary file, not text"));
        assert_eq!(not_text("plain text, caf\u{e9}".as_bytes()), None);
    }

    #[test]
    fn reads_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "x".repeat(20_000)).unwrap();
        assert_eq!(read_bounded(&p, 20_000).unwrap().len(), 20_000);
        let err = read_bounded(&p, 19_999).unwrap_err().to_string();
        assert!(err.contains("larger than 19999 bytes (20000 bytes)"), "{err}");
        // A stream that is longer than its size said (or has none) stops at the limit.
        let err = read_stream(std::io::repeat(b'a'), &p, 10_000, 0).unwrap_err().to_string();
        assert!(err.contains("larger than 10000 bytes"), "{err}");
        let err = read_bounded(dir.path(), 100).unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
    }
}
