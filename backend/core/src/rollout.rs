//! The session record: one append-only JSONL file per session, plus an index.
//!
//! Lines are `{"t": <unix ms>, "type": ..., "payload": ...}`. Resuming replays `response_item`
//! lines (and `compacted`, which replaces the history so far) to rebuild exactly what the model
//! saw. Writes go through a dedicated thread so the agent loop never waits on the disk.
//!
//! Start-up cost does not grow with the number of sessions: a session's path is derived from
//! its id, and `--last` reads only the tail of `sessions/index.jsonl`.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};
use tandem_model::ResponseItem;
use tandem_protocol::items::PlanStep;

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("cannot write the session record under {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no session with id `{0}` (see `tandem exec resume --last`, or the ids in $TANDEM_HOME/sessions/index.jsonl)"
    )]
    NotFound(String),
    #[error("session id `{0}` is ambiguous; give more characters")]
    Ambiguous(String),
    #[error("no recorded session yet; start one with `tandem exec \"<prompt>\"`")]
    NoSessions,
    #[error("the session record {path} is damaged at line {line}: {detail}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RolloutError + '_ {
    move |source| RolloutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum RolloutLine {
    SessionMeta(SessionMeta),
    ResponseItem(ResponseItem),
    /// The history was replaced (compaction); what follows builds on this.
    Compacted {
        history: Vec<ResponseItem>,
    },
    /// State the kernel keeps beside the history, saved at the end of each turn.
    TurnState(TurnState),
    /// The stable event stream, for people and tools reading the record.
    Event(serde_json::Value),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionMeta {
    pub id: String,
    pub cwd: String,
    pub model: String,
    pub model_provider: String,
    pub created_at: u64,
    pub cli_version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TurnState {
    pub plan: Vec<PlanStep>,
    pub files_touched: Vec<String>,
    pub original_task: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Stamped<T> {
    t: u64,
    #[serde(flatten)]
    line: T,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: String,
    pub path: String,
    pub cwd: String,
    pub created_at: u64,
}

/// The sessions directory and its index.
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    pub fn new(tandem_home: &Path) -> Self {
        SessionStore {
            dir: tandem_home.join("sessions"),
        }
    }

    pub fn path_for(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.jsonl"))
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.jsonl")
    }

    /// Find a session by full id or unique prefix.
    pub fn find(&self, id: &str) -> Result<PathBuf, RolloutError> {
        let exact = self.path_for(id);
        if exact.is_file() {
            return Ok(exact);
        }
        let index = self.index_path();
        let file = File::open(&index).map_err(|_| RolloutError::NotFound(id.into()))?;
        let mut found: Option<String> = None;
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<IndexEntry>(&line) else {
                continue;
            };
            if entry.id.starts_with(id) {
                if found.as_deref().is_some_and(|f| f != entry.path) {
                    return Err(RolloutError::Ambiguous(id.into()));
                }
                found = Some(entry.path);
            }
        }
        found
            .map(PathBuf::from)
            .ok_or_else(|| RolloutError::NotFound(id.into()))
    }

    /// The most recently created session, read from the tail of the index.
    pub fn last(&self) -> Result<PathBuf, RolloutError> {
        let index = self.index_path();
        let mut file = File::open(&index).map_err(|_| RolloutError::NoSessions)?;
        let len = file.metadata().map_err(io_err(&index))?.len();
        let mut window = 4096u64;
        loop {
            let start = len.saturating_sub(window);
            file.seek(SeekFrom::Start(start)).map_err(io_err(&index))?;
            let mut buf = String::new();
            file.read_to_string(&mut buf).map_err(io_err(&index))?;
            let complete = if start == 0 {
                &buf[..]
            } else {
                buf.split_once('\n').map_or("", |(_, rest)| rest)
            };
            if let Some(entry) = complete
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str::<IndexEntry>(l).ok())
            {
                return Ok(PathBuf::from(entry.path));
            }
            if start == 0 {
                return Err(RolloutError::NoSessions);
            }
            window *= 4;
        }
    }

    fn append_index(&self, entry: &IndexEntry) -> Result<(), RolloutError> {
        let index = self.index_path();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&index)
            .map_err(io_err(&index))?;
        let mut line = serde_json::to_string(entry).unwrap_or_default();
        line.push('\n');
        // One write call per line: appends from concurrent sessions do not interleave.
        f.write_all(line.as_bytes()).map_err(io_err(&index))
    }
}

/// A live writer for one session's record.
pub struct Rollout {
    path: PathBuf,
    tx: Option<mpsc::Sender<String>>,
    thread: Option<JoinHandle<()>>,
}

impl Rollout {
    /// Create a new record and register it in the index.
    pub fn create(store: &SessionStore, meta: SessionMeta) -> Result<Self, RolloutError> {
        std::fs::create_dir_all(&store.dir).map_err(io_err(&store.dir))?;
        let path = store.path_for(&meta.id);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        store.append_index(&IndexEntry {
            id: meta.id.clone(),
            path: path.display().to_string(),
            cwd: meta.cwd.clone(),
            created_at: meta.created_at,
        })?;
        let rollout = Self::start(path, file);
        rollout.record(&RolloutLine::SessionMeta(meta));
        Ok(rollout)
    }

    /// Reopen an existing record to append to it.
    pub fn reopen(path: &Path) -> Result<Self, RolloutError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        Ok(Self::start(path.to_path_buf(), file))
    }

    fn start(path: PathBuf, file: File) -> Self {
        let (tx, rx) = mpsc::channel::<String>();
        let thread = std::thread::Builder::new()
            .name("tandem-rollout".into())
            .spawn(move || {
                let mut out = BufWriter::new(file);
                while let Ok(line) = rx.recv() {
                    let _ = out.write_all(line.as_bytes());
                    // Batch whatever else is queued, then flush: a crash loses at most a batch.
                    while let Ok(more) = rx.try_recv() {
                        let _ = out.write_all(more.as_bytes());
                    }
                    let _ = out.flush();
                }
            })
            .ok();
        Rollout {
            path,
            tx: Some(tx),
            thread,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record(&self, line: &RolloutLine) {
        let stamped = Stamped { t: now_ms(), line };
        if let (Some(tx), Ok(mut text)) = (&self.tx, serde_json::to_string(&stamped)) {
            text.push('\n');
            let _ = tx.send(text);
        }
    }

    /// Flush and stop the writer thread.
    pub fn close(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Rollout {
    fn drop(&mut self) {
        self.close();
    }
}

/// What a record holds, rebuilt for resuming.
#[derive(Debug, Default)]
pub struct Replayed {
    pub meta: Option<SessionMeta>,
    pub history: Vec<ResponseItem>,
    pub state: TurnState,
}

pub fn replay(path: &Path) -> Result<Replayed, RolloutError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut out = Replayed::default();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let stamped: Stamped<RolloutLine> = match serde_json::from_str(&line) {
            Ok(s) => s,
            // A torn last line (a crash mid-write) is expected; anything else is damage.
            Err(e) if e.is_eof() => break,
            Err(e) => {
                return Err(RolloutError::Corrupt {
                    path: path.into(),
                    line: i + 1,
                    detail: e.to_string(),
                });
            }
        };
        match stamped.line {
            RolloutLine::SessionMeta(m) => out.meta = Some(m),
            RolloutLine::ResponseItem(item) => out.history.push(item),
            RolloutLine::Compacted { history } => out.history = history,
            RolloutLine::TurnState(s) => out.state = s,
            RolloutLine::Event(_) => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> SessionMeta {
        SessionMeta {
            id: id.into(),
            cwd: "/w".into(),
            model: "m".into(),
            model_provider: "p".into(),
            created_at: 1,
            cli_version: "0".into(),
        }
    }

    #[test]
    fn records_replay_with_compaction() {
        let home = tempfile::tempdir().unwrap();
        let store = SessionStore::new(home.path());
        let mut r = Rollout::create(&store, meta("s1")).unwrap();
        r.record(&RolloutLine::ResponseItem(ResponseItem::user_text("one")));
        r.record(&RolloutLine::Compacted {
            history: vec![ResponseItem::user_text("note")],
        });
        r.record(&RolloutLine::ResponseItem(ResponseItem::assistant_text(
            "two",
        )));
        r.close();
        let back = replay(&store.find("s1").unwrap()).unwrap();
        assert_eq!(
            back.history,
            vec![
                ResponseItem::user_text("note"),
                ResponseItem::assistant_text("two")
            ]
        );
        assert_eq!(back.meta.unwrap().id, "s1");
    }

    #[test]
    fn last_and_prefix_lookup_use_the_index() {
        let home = tempfile::tempdir().unwrap();
        let store = SessionStore::new(home.path());
        assert!(matches!(store.last(), Err(RolloutError::NoSessions)));
        for id in ["aaa1", "aab2", "bbb3"] {
            Rollout::create(&store, meta(id)).unwrap();
        }
        assert!(store.last().unwrap().ends_with("bbb3.jsonl"));
        assert!(store.find("aab").unwrap().ends_with("aab2.jsonl"));
        assert!(matches!(store.find("aa"), Err(RolloutError::Ambiguous(_))));
        assert!(matches!(store.find("zzz"), Err(RolloutError::NotFound(_))));
    }

    #[test]
    fn last_finds_the_tail_of_a_long_index() {
        let home = tempfile::tempdir().unwrap();
        let store = SessionStore::new(home.path());
        std::fs::create_dir_all(&store.dir).unwrap();
        for i in 0..2000 {
            store
                .append_index(&IndexEntry {
                    id: format!("id{i}"),
                    path: format!("/p/{i}"),
                    cwd: "/w".into(),
                    created_at: i,
                })
                .unwrap();
        }
        assert_eq!(store.last().unwrap(), PathBuf::from("/p/1999"));
    }
}
