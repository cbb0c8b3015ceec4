//! Reliability with the fake engine (`--model fake`) and the hub's cache code: outputs
//! never replace inputs, a corrupt cached model is caught, input is read with a limit,
//! batches resume in every format and keep their outputs inside OUT, and the failure
//! messages say what is actually wrong. Fast: no model is loaded.
#![cfg(unix)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn precis() -> Command {
    let mut c = Command::cargo_bin("precis").unwrap();
    c.env_remove("HF_HUB_OFFLINE").env("XDG_CACHE_HOME", std::env::temp_dir().join("precis-rel-tests"));
    c.timeout(Duration::from_secs(60));
    c
}

const ARTICLE: &str = "Harbour officials in the town of Velmora approved a plan to dredge the old port on Monday. \
The plan costs 40 million euros and will take three years. Mayor Ilse Marchetti said the work would let larger ferries dock. \
Fishermen worry that the dredging will disturb the breeding grounds of local cod.\n\n\
The council will publish monthly progress reports. Environmental groups asked for an independent audit of the project. \
Work is expected to begin next spring, once the permits are signed.\n";

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn manifest(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn status_of(lines: &[Value], path: &str) -> Option<String> {
    lines.iter().find(|l| l["path"] == path).map(|l| l["status"].as_str().unwrap().to_string())
}

// ------------------------------------------------------------------ failure 1: -o onto inputs

#[test]
fn an_output_folder_that_would_replace_the_inputs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let a = write(&d, "a.txt", ARTICLE.as_bytes());
    let b = write(&d, "b.txt", format!("{ARTICLE}\nOne more line.").as_bytes());
    let out = precis()
        .args(["summarize", "-m", "fake", "--format", "text"])
        .arg(&a)
        .arg(&b)
        .arg("-o")
        .arg(format!("{}/", d.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("a.txt") && err.contains("input"), "{err}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), ARTICLE, "input a.txt was replaced");
    assert!(std::fs::read_to_string(&b).unwrap().starts_with(ARTICLE), "input b.txt was replaced");
}

#[test]
fn an_output_file_that_is_the_input_is_refused_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let dotted = dir.path().join(".").join("a.txt");
    for format in ["json", "markdown", "text"] {
        for o in [&a, &link, &dotted] {
            let out = precis()
                .args(["summarize", "-m", "fake", "--format", format])
                .arg(&a)
                .arg("-o")
                .arg(o)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{format} -o {o:?}: {}", stderr(&out));
            assert!(stderr(&out).contains("is an input"), "{}", stderr(&out));
            assert_eq!(std::fs::read_to_string(&a).unwrap(), ARTICLE, "{format} -o {o:?} replaced the input");
        }
    }
}

// ------------------------------------------------------------------ failure 2: corrupt cached model

const REPO: &str = "precis-test/tiny-GGUF";
const REV: &str = "0123456789abcdef0123456789abcdef01234567";
const NAME: &str = "tiny.Q4_0.gguf";

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The cache as Python's huggingface_hub lays it out: a blob named by its sha256 and a
/// relative snapshot link to it.
fn python_layout(cache: &Path, bytes: &[u8]) -> (PathBuf, PathBuf) {
    let repo = cache.join("models--precis-test--tiny-GGUF");
    let blob = repo.join("blobs").join(sha(bytes));
    write(&repo.join("blobs"), &sha(bytes), bytes);
    write(&repo.join("refs"), "main", REV.as_bytes());
    let link = repo.join("snapshots").join(REV).join(NAME);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(Path::new("../../blobs").join(sha(bytes)), &link).unwrap();
    (blob, link)
}

fn tiny_card(bytes: &[u8]) -> precis::registry::ModelCard {
    precis::registry::ModelCard {
        id: "tiny-test".into(),
        name: "Tiny test model".into(),
        architecture: "llama".into(),
        default: false,
        eog_tokens: vec!["</s>".into()],
        file: precis::registry::HubFile {
            repo: REPO.into(),
            revision: REV.into(),
            name: NAME.into(),
            size: bytes.len() as u64,
            sha256: sha(bytes),
        },
        mirror: vec![],
    }
}

#[test]
fn a_cached_blob_with_one_byte_flipped_is_caught() {
    let bytes: Vec<u8> = b"GGUF".iter().copied().chain((0..5000u32).map(|i| (i * 7 % 251) as u8)).collect();
    let card = tiny_card(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let mut o = precis::hub::FetchOptions::from_vars(true, |_| None);
    o.cache_dir = cache.path().to_path_buf();
    let (blob, link) = python_layout(cache.path(), &bytes);
    assert_eq!(precis::hub::resolve(&card, &o).unwrap().path, link, "an intact file resolves");
    assert_eq!(precis::hub::resolve(&card, &o).unwrap().path, link, "and again (from its verified stamp)");

    // Flip one byte in place: same size, same name, same inode.
    let mut bad = bytes.clone();
    bad[1000] ^= 1;
    std::thread::sleep(Duration::from_millis(20));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&blob)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &bad))
        .unwrap();
    let err = precis::hub::resolve(&card, &o).unwrap_err().to_string();
    assert!(err.contains("sha256 mismatch") && err.contains(&sha(&bad)), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    assert!(std::fs::symlink_metadata(&link).is_err(), "the bad entry is removed from the cache");
}

// ------------------------------------------------------------------ failure 3: bounded input

#[test]
fn a_file_over_the_input_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    // Sparse: 40 MB of zeros that take no disk. Refused by size, not by its content.
    std::fs::File::create(&big).unwrap().set_len(40 << 20).unwrap();
    let out = precis().args(["summarize", "-m", "fake", "--plan"]).arg(&big).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("big.txt") && err.contains("--max-input-bytes"), "{err}");

    let small = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let out = precis().args(["summarize", "-m", "fake", "--max-input-bytes", "100"]).arg(&small).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    let ok = precis().args(["summarize", "-m", "fake", "--max-input-bytes", "100000"]).arg(&small).output().unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn devices_and_fifos_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.txt");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for f in [Path::new("/dev/zero"), Path::new("/dev/urandom"), &fifo] {
        let t0 = std::time::Instant::now();
        let out = precis().timeout(Duration::from_secs(10)).args(["summarize", "-m", "fake"]).arg(f).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{f:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&*f.display().to_string()) && err.contains("not a regular file"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{f:?} took {:?}", t0.elapsed());
    }
}

#[test]
fn stdin_is_read_with_the_limit_too() {
    let out = precis()
        .args(["summarize", "-m", "fake", "--max-input-bytes", "1000", "-"])
        .write_stdin(ARTICLE.repeat(10))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("larger than 1000 bytes"), "{}", stderr(&out));
}

// ------------------------------------------------------------------ failure 4: resume in every format

#[test]
fn markdown_and_text_batches_resume() {
    for format in ["markdown", "text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("docs");
        write(&src, "a.txt", ARTICLE.as_bytes());
        write(&src, "sub/b.md", format!("# Title\n\n{ARTICLE}").as_bytes());
        let out = dir.path().join("out");
        let run = || {
            let o = precis()
                .arg("batch")
                .arg(&src)
                .arg("--out")
                .arg(&out)
                .args(["-m", "fake", "--format", format])
                .output()
                .unwrap();
            assert!(o.status.success(), "{format}: {}", stderr(&o));
            manifest(&out)
        };
        let first = run();
        assert_eq!(status_of(&first, "a.txt").as_deref(), Some("ok"), "{format}");
        let second = run();
        assert_eq!(status_of(&second, "a.txt").as_deref(), Some("skipped"), "{format}: {second:?}");
        assert_eq!(status_of(&second, "sub/b.md").as_deref(), Some("skipped"), "{format}");
        // A changed input, or an output removed or edited, is redone.
        write(&src, "a.txt", format!("{ARTICLE}\nA late addition to the story.").as_bytes());
        let ext = match format {
            "markdown" => "md",
            "text" => "txt",
            _ => "json",
        };
        std::fs::write(out.join(format!("sub/b.{ext}")), "edited by hand").unwrap();
        let third = run();
        assert_eq!(status_of(&third, "a.txt").as_deref(), Some("ok"), "{format}");
        assert_eq!(status_of(&third, "sub/b.md").as_deref(), Some("ok"), "{format}");
    }
}

// ------------------------------------------------------------------ failure 5: names that point outside OUT

#[test]
fn odd_input_names_map_inside_out() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs");
    for name in ["..txt", "...txt", ".txt", "sub/..md", "a..txt"] {
        write(&src, name, ARTICLE.as_bytes());
    }
    let out = dir.path().join("out");
    for format in ["json", "text", "markdown"] {
        let o = precis()
            .arg("batch")
            .arg(&src)
            .arg("--out")
            .arg(&out)
            .args(["-m", "fake", "--format", format, "--force"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let lines = manifest(&out);
        assert_eq!(lines.len(), 5, "{lines:?}");
        let mut seen = std::collections::BTreeSet::new();
        for l in &lines {
            assert_eq!(l["status"], "ok", "{l}");
            let rel = Path::new(l["output"].as_str().unwrap());
            assert!(rel.components().all(|c| matches!(c, std::path::Component::Normal(_))), "{rel:?}");
            let p = out.join(rel);
            assert!(p.is_file(), "{p:?}");
            assert!(seen.insert(p.clone()), "two inputs share {p:?}");
        }
    }
    assert!(!dir.path().join("..json").exists() && !dir.path().join("out.json").exists());
}

// ------------------------------------------------------------------ weak spots

#[test]
fn utf16_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xff, 0xfe];
    for u in ARTICLE.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let f = write(dir.path(), "wide.txt", &bytes);
    let out = precis().args(["summarize", "-m", "fake"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("UTF-16"), "{}", stderr(&out));
}

#[test]
fn too_little_text_is_refused_not_invented() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("one.txt", "x"), ("zw.txt", "\u{200b}\u{200b}\u{2060}\n"), ("few.txt", "Three short words.")]
    {
        let f = write(dir.path(), name, text.as_bytes());
        let out = precis().args(["summarize", "-m", "fake"]).arg(&f).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(name) && (err.contains("too little text") || err.contains("empty")), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn output_checks_come_before_the_run_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let out = precis().args(["summarize", "-m", "fake", "-o", "/proc/version"]).arg(&a).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("/proc/version"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(".precis-"), "names a temp file: {}", stderr(&out));

    // --model naming a folder.
    let out = precis().args(["summarize", "-m"]).arg(dir.path()).arg(&a).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a folder"), "{}", stderr(&out));

    // OUT = DIR, and DIR inside OUT.
    let src = dir.path().join("docs");
    write(&src, "a.txt", ARTICLE.as_bytes());
    for (d, o) in [(src.clone(), src.clone()), (src.clone(), dir.path().to_path_buf())] {
        let out = precis().arg("batch").arg(&d).arg("--out").arg(&o).args(["-m", "fake"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!stderr(&out).contains("no files match"), "{}", stderr(&out));
        assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
    }
}

#[test]
fn a_second_batch_on_the_same_out_is_told_the_lock_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs");
    write(&src, "a.txt", ARTICLE.as_bytes());
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(".precis.lock")).unwrap();
    // SAFETY: flock on a file this test owns.
    assert_eq!(unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let o = precis().arg("batch").arg(&src).arg("--out").arg(&out).args(["-m", "fake"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("another precis batch"), "{}", stderr(&o));
    drop(lock);
    let o = precis().arg("batch").arg(&src).arg("--out").arg(&out).args(["-m", "fake"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn outputs_get_the_usual_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let o = dir.path().join("s.json");
    // SAFETY: umask of the test process only, read back at once.
    let umask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    } as u32;
    precis().args(["summarize", "-m", "fake", "-o"]).arg(&o).arg(&a).assert().success();
    let mode = std::fs::metadata(&o).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask, "mode {mode:o}");
}

#[test]
fn an_interrupt_says_what_was_left_and_exits_130() {
    use std::process::Stdio;
    // stdin left open: precis waits in the read, then gets SIGINT (and SIGTERM).
    for (sig, code, word) in [(libc::SIGINT, 130, "interrupted"), (libc::SIGTERM, 143, "terminated")] {
        let dir = tempfile::tempdir().unwrap();
        let o = dir.path().join("s.json");
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("precis"))
            .args(["summarize", "-m", "fake", "-", "-o"])
            .arg(&o)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: signalling the child this test started.
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
        // Keep stdin open until precis has ended (wait_with_output would close it first).
        let stdin = child.stdin.take();
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(word) && err.trim().lines().count() == 1, "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
