//! Checked GGUF reading: walks the header, metadata and tensor table of a file with
//! every length bounded by the file's size, before candle sees it, so a truncated or
//! corrupt file is a one-line error naming the file instead of a panic or a huge
//! allocation. Owns the metadata facts precis needs (architecture, vocabulary, chat
//! template); never loads tensor data.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<Value>),
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v) => Some(v),
            Value::Int(v) if v >= 0 => Some(v as u64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::UInt(v) => Some(v as f64),
            Value::Int(v) => Some(v as f64),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// A tensor's entry in the table.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub offset: u64,
}

impl TensorEntry {
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Dimensions outermost first (rows, then columns), as candle and precis index them;
    /// the file lists them innermost first.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Bytes of its data (checked against the file size when the table was read).
    pub fn n_bytes(&self) -> u64 {
        let (_, blk, bytes) = ggml_type(self.ggml_type).unwrap_or(("?", 1, 0));
        self.n_elements() / blk * bytes
    }
}

/// Header facts of a checked GGUF file.
#[derive(Debug, Clone)]
pub struct GgufInfo {
    pub path: PathBuf,
    pub file_size: u64,
    pub version: u32,
    pub metadata: HashMap<String, Value>,
    pub tensors: Vec<TensorEntry>,
    pub data_offset: u64,
}

/// ggml type id → (name, elements per block, bytes per block).
pub fn ggml_type(t: u32) -> Option<(&'static str, u64, u64)> {
    Some(match t {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        30 => ("BF16", 1, 2),
        _ => return None,
    })
}

/// Architectures precis can run.
pub const SUPPORTED_ARCHS: &[&str] = &["llama", "qwen2"];

const MAX_STRING: u64 = 16 << 20;
const MAX_DIMS: u32 = 4;

struct Reader<R> {
    r: R,
    pos: u64,
    size: u64,
}

impl<R: Read> Reader<R> {
    fn bytes(&mut self, n: u64) -> std::result::Result<Vec<u8>, String> {
        if n > self.size.saturating_sub(self.pos) {
            return Err(format!("truncated: needs {n} bytes at offset {}, file has {}", self.pos, self.size));
        }
        let mut v = vec![0u8; n as usize];
        self.r.read_exact(&mut v).map_err(|e| format!("read error at offset {}: {e}", self.pos))?;
        self.pos += n;
        Ok(v)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap()))
    }
    fn string(&mut self) -> std::result::Result<String, String> {
        let n = self.u64()?;
        if n > MAX_STRING {
            return Err(format!("corrupt: string of {n} bytes at offset {}", self.pos));
        }
        let b = self.bytes(n)?;
        String::from_utf8(b).map_err(|_| format!("corrupt: invalid UTF-8 string before offset {}", self.pos))
    }
    fn value(&mut self, ty: u32, depth: u32) -> std::result::Result<Value, String> {
        Ok(match ty {
            0 => Value::UInt(self.bytes(1)?[0] as u64),
            1 => Value::Int(self.bytes(1)?[0] as i8 as i64),
            2 => Value::UInt(u16::from_le_bytes(self.bytes(2)?.try_into().unwrap()) as u64),
            3 => Value::Int(i16::from_le_bytes(self.bytes(2)?.try_into().unwrap()) as i64),
            4 => Value::UInt(self.u32()? as u64),
            5 => Value::Int(self.u32()? as i32 as i64),
            6 => Value::Float(f32::from_bits(self.u32()?) as f64),
            7 => Value::Bool(self.bytes(1)?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                if depth > 2 {
                    return Err("corrupt: nested arrays too deep".into());
                }
                let ety = self.u32()?;
                let n = self.u64()?;
                // Every element takes at least one byte: bound the count by what is left.
                if n > self.size.saturating_sub(self.pos) {
                    return Err(format!("truncated: array of {n} items at offset {}", self.pos));
                }
                let mut v = Vec::with_capacity(n.min(1 << 20) as usize);
                for _ in 0..n {
                    v.push(self.value(ety, depth + 1)?);
                }
                Value::Array(v)
            }
            10 => Value::UInt(self.u64()?),
            11 => Value::Int(self.u64()? as i64),
            12 => Value::Float(f64::from_bits(self.u64()?)),
            t => return Err(format!("corrupt: unknown metadata value type {t} at offset {}", self.pos)),
        })
    }
}

impl GgufInfo {
    /// Reads and checks the header, metadata and tensor table of `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut r = Reader { r: BufReader::with_capacity(1 << 16, file), pos: 0, size };
        Self::parse(path, &mut r).map_err(|msg| Error::model(path, msg))
    }

    fn parse<R: Read + Seek>(path: &Path, r: &mut Reader<BufReader<R>>) -> std::result::Result<Self, String> {
        let magic = r.bytes(4).map_err(|_| "not a GGUF file (too short)".to_string())?;
        if magic != b"GGUF" {
            return Err("not a GGUF file (bad magic)".into());
        }
        let version = r.u32()?;
        if !(2..=3).contains(&version) {
            return Err(format!("unsupported GGUF version {version}"));
        }
        let n_tensors = r.u64()?;
        let n_kv = r.u64()?;
        if n_tensors > 1 << 20 || n_kv > 1 << 20 {
            return Err(format!("corrupt: {n_tensors} tensors, {n_kv} metadata keys"));
        }
        let mut metadata = HashMap::new();
        for _ in 0..n_kv {
            let key = r.string()?;
            let ty = r.u32()?;
            let v = r.value(ty, 0).map_err(|e| format!("metadata {key}: {e}"))?;
            metadata.insert(key, v);
        }
        let mut tensors = Vec::with_capacity(n_tensors as usize);
        for _ in 0..n_tensors {
            let name = r.string()?;
            let n_dims = r.u32()?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(format!("tensor {name}: corrupt dimension count {n_dims}"));
            }
            let dims = (0..n_dims).map(|_| r.u64()).collect::<std::result::Result<Vec<_>, _>>()?;
            let ggml_type = r.u32()?;
            let offset = r.u64()?;
            tensors.push(TensorEntry { name, dims, ggml_type, offset });
        }
        let align = metadata.get("general.alignment").and_then(Value::as_u64).unwrap_or(32).max(1);
        let data_offset = r.pos.div_ceil(align) * align;
        for t in &tensors {
            let (tname, blk, bytes) = ggml_type(t.ggml_type)
                .ok_or_else(|| format!("tensor {}: unsupported quantisation type {}", t.name, t.ggml_type))?;
            let n = t.dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).ok_or("corrupt tensor shape")?;
            if t.dims[0] % blk != 0 {
                return Err(format!("tensor {}: {tname} row of {} is not a multiple of {blk}", t.name, t.dims[0]));
            }
            let end = (n / blk)
                .checked_mul(bytes)
                .and_then(|b| b.checked_add(t.offset))
                .and_then(|b| b.checked_add(data_offset))
                .ok_or("corrupt tensor offset")?;
            if end > r.size {
                return Err(format!("truncated: tensor {} ends at byte {end}, file has {} bytes", t.name, r.size));
            }
        }
        Ok(GgufInfo { path: path.to_path_buf(), file_size: r.size, version, metadata, tensors, data_offset })
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    fn require(&self, key: &str) -> Result<&Value> {
        self.get(key).ok_or_else(|| Error::model(&self.path, format!("missing metadata key {key}")))
    }

    pub fn str(&self, key: &str) -> Result<&str> {
        self.require(key)?
            .as_str()
            .ok_or_else(|| Error::model(&self.path, format!("metadata key {key} is not a string")))
    }

    pub fn u64(&self, key: &str) -> Result<u64> {
        self.require(key)?
            .as_u64()
            .ok_or_else(|| Error::model(&self.path, format!("metadata key {key} is not an integer")))
    }

    pub fn architecture(&self) -> Result<&str> {
        self.str("general.architecture")
    }

    /// Checks that precis can run this file: a supported architecture, its hyper-parameters.
    pub fn check_supported(&self) -> Result<()> {
        let arch = self.architecture()?;
        if !SUPPORTED_ARCHS.contains(&arch) {
            return Err(Error::model(
                &self.path,
                format!("unsupported architecture {arch:?} (precis runs {})", SUPPORTED_ARCHS.join(", ")),
            ));
        }
        for k in ["block_count", "embedding_length", "attention.head_count", "context_length"] {
            self.u64(&format!("{arch}.{k}"))?;
        }
        if self.get("tokenizer.ggml.tokens").and_then(Value::as_array).is_none() {
            return Err(Error::model(&self.path, "missing tokenizer.ggml.tokens (no vocabulary)"));
        }
        if !self.tensors.iter().any(|t| t.name == "token_embd.weight") {
            return Err(Error::model(&self.path, "missing tensor token_embd.weight"));
        }
        Ok(())
    }

    /// Bytes of tensor data, and the number of parameters.
    pub fn size_and_params(&self) -> (u64, u64) {
        self.tensors.iter().fold((0, 0), |(b, p), t| {
            let n = t.n_elements();
            let (_, blk, bytes) = ggml_type(t.ggml_type).unwrap_or(("?", 1, 4));
            (b + n / blk * bytes, p + n)
        })
    }

    /// The most common weight type among 2-D tensors (e.g. `Q4_1`), for display.
    pub fn main_type(&self) -> &'static str {
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        for t in self.tensors.iter().filter(|t| t.dims.len() == 2) {
            if let Some((name, _, _)) = ggml_type(t.ggml_type) {
                *counts.entry(name).or_default() += t.n_elements();
            }
        }
        counts.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k).unwrap_or("?")
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorEntry> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Reads the data of tensor `t` from `file` (this GGUF, opened with [`GgufInfo::open`])
    /// without moving a shared cursor, so that tensors can load in parallel.
    pub fn read_tensor(&self, file: &std::fs::File, t: &TensorEntry) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; t.n_bytes() as usize];
        read_at(file, &mut buf, self.data_offset + t.offset)
            .map_err(|e| Error::model(&self.path, format!("tensor {}: {e}", t.name)))?;
        Ok(buf)
    }

    /// Opens the file positioned at its start, for candle's own reader.
    pub fn open(&self) -> Result<std::fs::File> {
        let mut f = std::fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        f.seek(SeekFrom::Start(0)).map_err(|e| Error::io(&self.path, e))?;
        Ok(f)
    }
}

fn read_at(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, off)
    }
    #[cfg(not(unix))]
    {
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(off))?;
        f.read_exact(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    #[test]
    fn rejects_garbage_and_truncation_without_panicking() {
        for bytes in [&b""[..], b"GG", b"GGUF", b"GGUF\x03\0\0\0", b"NOTAGGUFFILE-AT-ALL"] {
            let f = write(bytes);
            let err = GgufInfo::read(f.path()).unwrap_err().to_string();
            assert!(err.starts_with(&f.path().display().to_string()), "{err}");
        }
        // A huge string length must be refused, not allocated.
        let mut b = b"GGUF\x03\0\0\0".to_vec();
        b.extend(0u64.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        b.extend(u64::MAX.to_le_bytes());
        let f = write(&b);
        let err = GgufInfo::read(f.path()).unwrap_err().to_string();
        assert!(err.contains("string of"), "{err}");
    }
}
