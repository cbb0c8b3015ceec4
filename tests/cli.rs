//! CLI flows with the deterministic fake engine (`--model fake`): output contract,
//! schema validity, evidence offsets, atomic outputs, batch resume and failures, usage
//! errors and exit codes. Fast: no model is loaded.
mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn precis() -> Command {
    let mut c = Command::cargo_bin("precis").unwrap();
    c.env_remove("HF_HUB_OFFLINE").env("XDG_CACHE_HOME", std::env::temp_dir().join("precis-cli-tests"));
    c
}

fn schema() -> jsonschema::Validator {
    let s: Value = serde_json::from_str(include_str!("../prompts/summary.schema.json")).unwrap();
    jsonschema::validator_for(&s).unwrap()
}

fn assert_valid(v: &Value) {
    let errors: Vec<String> = schema().iter_errors(v).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "schema errors: {errors:?}");
}

/// Every quote is exactly the source bytes at its offsets.
fn assert_evidence_exact(v: &Value, source: &[u8]) {
    for kp in v["key_points"].as_array().unwrap() {
        for e in kp["evidence"].as_array().unwrap() {
            let (s, t) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
            assert!(s < t && t <= source.len(), "bad span {s}..{t}");
            assert_eq!(e["quote"].as_str().unwrap().as_bytes(), &source[s..t]);
        }
    }
}

const ARTICLE: &str = "Harbour officials in the town of Velmora approved a plan to dredge the old port on Monday. \
The plan costs 40 million euros and will take three years. Mayor Ilse Marchetti said the work would let larger ferries dock. \
Fishermen worry that the dredging will disturb the breeding grounds of local cod.\n\n\
The council will publish monthly progress reports. Environmental groups asked for an independent audit of the project. \
Work is expected to begin next spring, once the permits are signed.\n";

fn write(dir: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn summarize_json_is_schema_valid_with_exact_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let out = precis().args(["summarize", "--model", "fake", "--format", "json"]).arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    assert_eq!(v["schema"], "precis.summary/v1");
    assert_eq!(v["source"]["bytes"], ARTICLE.len());
    assert!(!v["key_points"].as_array().unwrap().is_empty());
    assert_evidence_exact(&v, ARTICLE.as_bytes());
    assert!(v["stats"]["model_calls"].as_u64().unwrap() >= 3);
}

#[test]
fn example_article_evidence_offsets_are_exact() {
    let src = std::fs::read(common::example_article()).unwrap();
    let out = precis().args(["summarize", "-m", "fake"]).arg(common::example_article()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    assert_evidence_exact(&v, &src);
}

#[test]
fn output_file_is_written_atomically_and_markdown_renders() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.md", format!("# Port plan\n\n{ARTICLE}").as_bytes());
    let o = dir.path().join("out/summary.md");
    precis()
        .args(["summarize", "-m", "fake", "--format", "markdown", "-o"])
        .arg(&o)
        .arg(&f)
        .assert()
        .success()
        .stdout("");
    let md = std::fs::read_to_string(&o).unwrap();
    assert!(md.starts_with("# ") && md.contains("## Key points"), "{md}");
    let names: Vec<_> = std::fs::read_dir(o.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "temp files left: {names:?}");
}

#[test]
fn stdin_is_read_with_dash() {
    let out = precis().args(["summarize", "-m", "fake", "-"]).write_stdin(ARTICLE).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["path"], "-");
}

#[test]
fn bad_inputs_fail_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.txt", b"  \n");
    let binary = write(dir.path(), "bin.txt", &[0u8, 159, 146, 150, 0, 1, 2, 3, 0, 0]);
    let missing = dir.path().join("missing.txt");
    for (f, what) in [(&empty, "empty"), (&binary, "binary"), (&missing, "No such file")] {
        let out = precis().args(["summarize", "-m", "fake"]).arg(f).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{f:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&*f.display().to_string()) && err.contains(what), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", ARTICLE.as_bytes());
    let bad = write(dir.path(), "bad.txt", b"");
    let outdir = dir.path().join("out");
    std::fs::create_dir_all(&outdir).unwrap();
    let out = precis().args(["summarize", "-m", "fake", "-o"]).arg(&outdir).arg(&bad).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(outdir.join("good.json").is_file());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.txt"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["summarize"],
        vec!["summarize", "x.txt", "--format", "pdf", "-m", "fake"],
        vec!["summarize", "x.txt", "--device", "tpu"],
        vec!["summarize", "x.txt", "--model", "no-such-model"],
        vec!["summarize", "x.txt", "--threads", "0", "-m", "fake"],
        vec!["bench", "-o", "xml"],
        vec!["frobnicate"],
    ] {
        let out = precis().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
#[cfg_attr(feature = "cuda", ignore = "a CUDA build has CUDA: this checks the CPU-only build's error")]
fn cuda_on_a_cpu_build_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let gguf = write(dir.path(), "m.gguf", b"GGUF");
    let out = precis().args(["summarize", "--device", "cuda", "-m"]).arg(&gguf).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("m.gguf") || err.contains("CUDA"), "{err}");
}

#[test]
fn plan_prints_chunks_without_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.txt", ARTICLE.repeat(20).as_bytes());
    precis().args(["summarize", "-m", "fake", "--plan", "--chunk-tokens", "400"]).arg(&f).assert().success().stdout(
        predicate::str::contains("chunk   0")
            .and(predicate::str::contains("model calls"))
            .and(predicate::str::contains("estimated")),
    );
}

#[test]
fn plan_estimates_from_the_last_bench_of_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.txt", ARTICLE.as_bytes());
    let plan = || {
        let mut c = precis();
        c.env("XDG_CACHE_HOME", dir.path()).args(["summarize", "-m", "fake", "--plan"]).arg(&f);
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    assert!(plan().contains("a guess"), "{}", plan());
    precis()
        .env("XDG_CACHE_HOME", dir.path())
        .args(["bench", "-m", "fake", "-p", "16", "-n", "4", "-r", "1", "-o", "json"])
        .assert()
        .success();
    assert!(plan().contains("from the last precis bench"), "{}", plan());
    // A timed whole summary (`--sum`) is what the estimate then uses.
    precis()
        .env("XDG_CACHE_HOME", dir.path())
        .args(["bench", "-m", "fake", "-p", "16", "-n", "4", "-r", "1", "-o", "json", "--sum"])
        .arg(&f)
        .assert()
        .success();
    assert!(plan().contains("source tok/s (the last precis bench --sum"), "{}", plan());
}

fn manifest(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn batch_writes_mirrored_outputs_resumes_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs");
    write(&src, "a.txt", ARTICLE.as_bytes());
    write(&src, "sub/b.md", format!("# Title\n\n{ARTICLE}").as_bytes());
    write(&src, "sub/c.html", format!("<html><body><article><p>{ARTICLE}</p></article></body></html>").as_bytes());
    write(&src, "sub/skip.pdf", b"%PDF");
    write(&src, "bad.txt", &[0, 0, 0, 1, 2, 0]);
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        precis().arg("batch").arg(&src).arg("--out").arg(&out).args(["-m", "fake"]).args(extra).output().unwrap()
    };

    let first = run(&[]);
    assert_eq!(first.status.code(), Some(1), "bad.txt must fail the batch");
    for p in ["a.json", "sub/b.json", "sub/c.json"] {
        let v: Value = serde_json::from_slice(&std::fs::read(out.join(p)).unwrap()).unwrap();
        assert_valid(&v);
    }
    assert!(!out.join("sub/skip.json").exists());
    let lines = manifest(&out);
    assert_eq!(lines.len(), 4);
    let status =
        |v: &Vec<Value>, p: &str| v.iter().find(|l| l["path"] == p).map(|l| l["status"].as_str().unwrap().to_string());
    assert_eq!(status(&lines, "bad.txt").as_deref(), Some("failed"));
    assert_eq!(status(&lines, "a.txt").as_deref(), Some("ok"));

    // Second run: everything up to date is skipped.
    let second = run(&[]);
    assert_eq!(second.status.code(), Some(1));
    let lines = manifest(&out);
    assert_eq!(status(&lines, "a.txt").as_deref(), Some("skipped"));
    assert_eq!(status(&lines, "sub/b.md").as_deref(), Some("skipped"));

    // A changed input is redone; --force redoes everything.
    write(&src, "a.txt", format!("{ARTICLE}\nA late addition to the story.").as_bytes());
    run(&[]);
    let lines = manifest(&out);
    assert_eq!(status(&lines, "a.txt").as_deref(), Some("ok"));
    assert_eq!(status(&lines, "sub/b.md").as_deref(), Some("skipped"));
    run(&["--force"]);
    let lines = manifest(&out);
    assert_eq!(status(&lines, "sub/b.md").as_deref(), Some("ok"));
}

/// Every output under `out` (the manifest and the resume journal aside), without its
/// timings, by relative path.
fn outputs_without_timings(out: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<(String, Value)> = walkdir::WalkDir::new(out)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let mut v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            v.as_object_mut().unwrap().remove("stats");
            (e.path().strip_prefix(out).unwrap().display().to_string(), v)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

#[test]
fn batch_jobs_merge_documents_and_write_what_one_job_writes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs");
    for (i, town) in ["Velmora", "Ostrava", "Brindle", "Castelo", "Dunmore", "Eskil"].iter().enumerate() {
        write(&src, &format!("d{i}.txt"), ARTICLE.replace("Velmora", town).as_bytes());
    }
    write(&src, "sub/b.md", format!("# Title\n\n{ARTICLE}").as_bytes());
    write(&src, "bad.txt", &[0, 0, 0, 1, 2, 0]);
    let run = |jobs: &str, out: &Path| {
        precis()
            .arg("batch")
            .arg(&src)
            .arg("--out")
            .arg(out)
            .args(["-m", "fake", "-v", "--jobs", jobs])
            .output()
            .unwrap()
    };
    let (one, three) = (dir.path().join("one"), dir.path().join("three"));
    let a = run("1", &one);
    let b = run("3", &three);
    assert_eq!(a.status.code(), Some(1), "bad.txt fails the batch: {}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(b.status.code(), Some(1), "{}", String::from_utf8_lossy(&b.stderr));
    let (x, y) = (outputs_without_timings(&one), outputs_without_timings(&three));
    assert_eq!(x.len(), 7);
    assert_eq!(x, y, "--jobs 3 must write what --jobs 1 writes");
    let lines = |out: &Path| {
        let mut l: Vec<(String, String)> = manifest(out)
            .iter()
            .map(|v| (v["path"].as_str().unwrap().to_string(), v["status"].as_str().unwrap().to_string()))
            .collect();
        l.sort();
        l
    };
    assert_eq!(lines(&one), lines(&three));
    assert_eq!(lines(&three).len(), 8);
    // -v reports how the engine's calls were shared: with three documents in flight, some
    // call must have held the chats of more than one.
    let err = String::from_utf8_lossy(&b.stderr);
    let merged: usize = err
        .lines()
        .find_map(|l| l.split_once("--jobs 3: ")?.1.split_once("), ")?.1.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no sharing line: {err}"));
    assert!(merged > 0, "{err}");
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(err.contains(" 0 of them merging several documents"), "{err}");

    // A rerun with several jobs skips everything up to date.
    let c = run("3", &three);
    assert_eq!(c.status.code(), Some(1));
    assert_eq!(lines(&three).iter().filter(|(_, s)| s == "skipped").count(), 7);
}

#[test]
fn a_page_without_a_full_stop_still_summarises() {
    let dir = tempfile::tempdir().unwrap();
    // One 6,000-word "sentence": more tokens than the model's context.
    let text = format!(
        "{} and the council met again.",
        "the council approved the tram budget".repeat(1000).replace("budgetthe", "budget, the")
    );
    let path = write(dir.path(), "runon.txt", text.as_bytes());
    let out = precis().args(["summarize", "-m", "fake"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
}

#[test]
fn batch_jobs_flag_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("docs");
    write(&src, "a.txt", ARTICLE.as_bytes());
    for bad in ["0", "257"] {
        let o = precis()
            .arg("batch")
            .arg(&src)
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(["-m", "fake", "--jobs", bad])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "--jobs {bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&format!("--jobs {bad}")) && err.contains("between 1 and 256"), "{err}");
    }
    assert!(!dir.path().join("out").exists(), "a refused run writes nothing");
}

#[test]
fn bench_json_rows_carry_llama_bench_fields() {
    let out = precis().args(["bench", "-m", "fake", "-p", "64", "-n", "16", "-r", "2", "-o", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    for f in [
        "model_filename",
        "model_type",
        "model_size",
        "model_n_params",
        "n_threads",
        "n_prompt",
        "n_gen",
        "test",
        "avg_ns",
        "stddev_ns",
        "avg_ts",
        "stddev_ts",
        "samples_ts",
        "device",
        "build_commit",
        "switches",
    ] {
        assert!(rows.iter().all(|r| !r[f].is_null()), "missing field {f}");
    }
    assert_eq!(rows[0]["test"], "pp64");
    assert_eq!(rows[1]["test"], "tg16");
    assert_eq!(rows[0]["samples_ts"].as_array().unwrap().len(), 2);
    let csv = precis().args(["bench", "-m", "fake", "-p", "8", "-n", "0", "-r", "1", "-o", "csv"]).output().unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("build_commit,model_filename"));
    assert_eq!(text.lines().count(), 2);
}

#[test]
#[ignore = "concept-coverage selection takes this 20-section report's points from its lead and its conclusion (quarters 0 and 3), not from every quarter: issue 10, see QUALITY.md"]
fn long_document_gets_points_from_every_part() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/long_report.md");
    let src = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&src).split_whitespace().count() >= 10_000);
    let out = precis().args(["summarize", "-m", "fake", "--points", "8"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    assert_evidence_exact(&v, &src);
    let quarters: std::collections::BTreeSet<usize> = v["key_points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|k| {
            k["evidence"].as_array().unwrap().iter().map(|e| e["start"].as_u64().unwrap() as usize * 4 / src.len())
        })
        .collect();
    assert_eq!(quarters.len(), 4, "evidence only from quarters {quarters:?}");
}

#[test]
fn models_list_shows_both_cards_and_their_cache_state() {
    let home = tempfile::tempdir().unwrap();
    let out = precis()
        .env("HF_HOME", home.path())
        .env_remove("HF_HUB_CACHE")
        .args(["models", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["qwen2.5-coder-0.5b-instruct-q4_k_m", "smollm2-135m-instruct-q4_1"]);
    assert!(rows.iter().all(|r| r["cached"] == false), "empty cache: {rows:?}");
}

#[test]
fn bench_takes_the_model_flags_and_one_engine_per_thread_count() {
    let out = precis()
        .args(["bench", "-m", "fake", "-p", "8", "-n", "0", "-r", "1", "-t", "1,2", "-o", "jsonl", "--no-vnni"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let threads: Vec<u64> = rows.iter().map(|r| r["n_threads"].as_u64().unwrap()).collect();
    assert_eq!(threads, [1, 2], "each row carries its own engine's thread count");
    assert!(rows.iter().all(|r| r["switches"] == "no_vnni"), "{rows:?}");
    // The experiment switches are load options, also read from their variables.
    let out = precis()
        .env("PRECIS_DENSE_DTYPE", "bf16")
        .env("PRECIS_DENSE_FUSED", "0")
        .args(["bench", "-m", "fake", "-p", "8", "-n", "0", "-r", "1", "-t", "1", "-o", "jsonl"])
        .output()
        .unwrap();
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["switches"], "dense_dtype=bf16 no_fused");
    precis()
        .env("PRECIS_DENSE_DTYPE", "f8")
        .args(["bench", "-m", "fake", "-p", "8", "-n", "0", "-r", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--dense-dtype f8"));
    // A list of thread counts is for bench only.
    precis()
        .args(["summarize", "-m", "fake", "-t", "1,2"])
        .arg(common::example_article())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
}

#[test]
fn verbose_shows_the_load_options() {
    precis()
        .args(["-v", "summarize", "-m", "fake", "-t", "3", "--no-vnni", "--plan"])
        .arg(common::example_article())
        .assert()
        .success();
    let out = precis().args(["-v", "generate", "-m", "fake", "-t", "3", "--no-vnni", "hello"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 thread(s)") && err.contains("switches: no_vnni"), "{err}");
}

#[test]
fn completions_come_from_the_command_definitions() {
    for (shell, marker) in [("bash", "_precis()"), ("zsh", "#compdef precis"), ("fish", "complete -c precis")] {
        let out = precis().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        for word in ["summarize", "batch", "bench", "chunk-tokens", "completions"] {
            assert!(text.contains(word), "{shell} completions miss {word}");
        }
    }
    precis().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_pages_come_from_the_command_definitions() {
    let out = precis().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH precis"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH precis 1") && page.contains("summarize") && page.contains("Exit codes"), "{page}");
    let out = precis().args(["man", "summarize"]).output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH precis\\-summarize 1") || page.contains(".TH precis-summarize 1"), "{page}");
    assert!(page.contains("chunk\\-tokens") || page.contains("chunk-tokens"), "{page}");
    precis().args(["man", "nope"]).assert().code(2).stderr(predicate::str::contains("man nope: no such command"));
}
