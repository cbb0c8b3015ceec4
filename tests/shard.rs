//! `precis batch --shard K/N` and `--merge` end to end with the fake engine: the shards of
//! a folder cover every file exactly once, each writes its own manifest, and the merge
//! joins them and lists what no shard has done.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn precis() -> Command {
    let mut c = Command::cargo_bin("precis").unwrap();
    c.env_remove("HF_HUB_OFFLINE")
        .env_remove("PRECIS_BASE_URL")
        .env("XDG_CACHE_HOME", std::env::temp_dir().join("precis-shard-tests"));
    c
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn folder(dir: &Path, count: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("{}/doc-{i}.txt", if i % 2 == 0 { "even" } else { "odd" });
        let p = dir.join(&name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                "Report {i} says the harbour of Velmora will be dredged next year. \
                 The council approved {i} million euros for the work on Monday. \
                 Fishermen worry about the cod breeding grounds near the port.\n"
            ),
        )
        .unwrap();
        names.push(name);
    }
    names.sort();
    names
}

#[test]
fn shards_cover_every_file_once_and_the_merge_finds_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, out) = (tmp.path().join("in"), tmp.path().join("out"));
    let names = folder(&dir, 9);
    let n = 3;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for k in 0..n {
        let o = precis()
            .args(["batch", "--model", "fake", "--shard", &format!("{k}/{n}"), "--out"])
            .arg(&out)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for l in lines(&out.join(format!("manifest.{k}-of-{n}.jsonl"))) {
            assert_eq!(l["status"], "ok");
            *seen.entry(l["path"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), names, "every file in some shard");
    assert!(seen.values().all(|&c| c == 1), "every file in one shard only: {seen:?}");
    assert!(!out.join("manifest.jsonl").exists(), "shards write their own manifests");

    let merged = precis().args(["batch", "--model", "fake", "--merge", "--out"]).arg(&out).arg(&dir).output().unwrap();
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert!(merged.stdout.is_empty());
    let all = lines(&out.join("manifest.jsonl"));
    assert_eq!(all.iter().map(|l| l["path"].as_str().unwrap().to_string()).collect::<Vec<_>>(), names);

    // A file added after the shards ran: no shard has done it.
    std::fs::write(dir.join("late.txt"), "A late report on the harbour of Velmora and its dredging plans.\n").unwrap();
    let merged = precis().args(["batch", "--model", "fake", "--merge", "--out"]).arg(&out).arg(&dir).output().unwrap();
    assert_eq!(merged.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&merged.stdout), "late.txt\n");
    let all = lines(&out.join("manifest.jsonl"));
    assert_eq!(all.iter().filter(|l| l["status"] == "missing").count(), 1);
}

#[test]
fn the_split_does_not_depend_on_where_the_folder_is() {
    let tmp = tempfile::tempdir().unwrap();
    let mut splits = Vec::new();
    for place in ["a", "b/deeper"] {
        let dir = tmp.path().join(place).join("in");
        let out = tmp.path().join(place).join("out");
        folder(&dir, 6);
        let o = precis()
            .args(["batch", "--model", "fake", "--shard", "1/2", "--out"])
            .arg(&out)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success());
        let mut paths: Vec<String> =
            lines(&out.join("manifest.1-of-2.jsonl")).iter().map(|l| l["path"].as_str().unwrap().to_string()).collect();
        paths.sort();
        splits.push(paths);
    }
    assert_eq!(splits[0], splits[1]);
}

#[test]
fn bad_shard_and_merge_without_manifests_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    folder(&dir, 2);
    let o = precis()
        .args(["batch", "--model", "fake", "--shard", "3/3", "--out"])
        .arg(tmp.path().join("o"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shard 3/3"));
    std::fs::create_dir_all(tmp.path().join("o")).unwrap();
    let o = precis()
        .args(["batch", "--model", "fake", "--merge", "--out"])
        .arg(tmp.path().join("o"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no shard manifests"));
}
