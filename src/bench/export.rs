//! Bench output formats, as llama-bench writes them: a Markdown table, CSV, a JSON
//! array, and JSON lines.

use super::Row;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchFormat {
    Md,
    Csv,
    Json,
    Jsonl,
}

impl std::str::FromStr for BenchFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "md" => BenchFormat::Md,
            "csv" => BenchFormat::Csv,
            "json" => BenchFormat::Json,
            "jsonl" => BenchFormat::Jsonl,
            _ => return Err(Error::Usage(format!("-o {s}: expected md, csv, json or jsonl"))),
        })
    }
}

const CSV_FIELDS: &[&str] = &[
    "build_commit",
    "model_filename",
    "model_type",
    "model_size",
    "model_n_params",
    "device",
    "backend",
    "switches",
    "n_threads",
    "n_prompt",
    "n_gen",
    "n_seqs",
    "test",
    "repetitions",
    "avg_ns",
    "stddev_ns",
    "avg_ts",
    "stddev_ts",
    "ttft_ns",
    "load_ms",
];

pub fn header(format: BenchFormat) -> String {
    match format {
        BenchFormat::Md => "| model | size | params | device | backend | switches | threads | test | t/s |\n| --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: |\n".into(),
        BenchFormat::Csv => CSV_FIELDS.join(",") + "\n",
        BenchFormat::Json => "[\n".into(),
        BenchFormat::Jsonl => String::new(),
    }
}

pub fn row(r: &Row, format: BenchFormat, first: bool) -> String {
    match format {
        BenchFormat::Md => format!(
            "| {} | {:.2} MiB | {:.2} M | {} | {} | {} | {} | {} | {:.2} ± {:.2} |\n",
            r.model_type,
            r.model_size as f64 / 1048576.0,
            r.model_n_params as f64 / 1e6,
            r.device,
            r.backend,
            r.switches,
            r.n_threads,
            r.test,
            r.avg_ts,
            r.stddev_ts
        ),
        BenchFormat::Csv => {
            let v = serde_json::to_value(r).unwrap_or_default();
            let cells: Vec<String> = CSV_FIELDS
                .iter()
                .map(|f| match &v[f] {
                    serde_json::Value::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect();
            cells.join(",") + "\n"
        }
        BenchFormat::Json => {
            let body = serde_json::to_string_pretty(r).unwrap_or_default();
            format!("{}{}", if first { "" } else { ",\n" }, body)
        }
        BenchFormat::Jsonl => serde_json::to_string(r).unwrap_or_default() + "\n",
    }
}

pub fn footer(format: BenchFormat) -> String {
    match format {
        BenchFormat::Json => "\n]\n".into(),
        _ => String::new(),
    }
}
