//! (temporary stub; the real hub module is being written)
use crate::error::{Error, Result};
use crate::registry::ModelCard;
use std::path::PathBuf;
pub struct FetchOptions;
impl FetchOptions { pub fn from_env(_offline: bool) -> Self { FetchOptions } }
pub struct Resolved { pub path: PathBuf }
pub fn resolve(card: &ModelCard, _o: &FetchOptions) -> Result<Resolved> { Err(Error::Fetch(format!("{}: hub not written yet", card.id))) }
