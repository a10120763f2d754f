//! Benchmarks of the target workload: a 50-hunk patch to a
//! 20,000-line file (target: well under 5 ms).
//!
//! * `plan_50_hunks_20k_lines`: parse + plan against an in-memory source,
//!   which is what the kernel and the LSP server pay before asking for
//!   approval;
//! * `apply_50_hunks_20k_lines`: parse + plan + commit on a real temp
//!   directory (the file is rewritten to its original text between runs,
//!   outside the measurement).
//!
//! Run it with `scripts/bench/apply-patch`, which prints the medians.

use std::collections::HashMap;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tandem_apply_patch::{FileSource, apply_patch, parse_patch, plan_patch};

#[path = "../tests/support/workload.rs"]
mod workload;

struct Memory(HashMap<PathBuf, String>);

impl FileSource for Memory {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        Ok(self.0.get(path).cloned())
    }
}

fn bench(c: &mut Criterion) {
    let (file, patch, expected) = workload::fifty_hunks_twenty_thousand_lines();

    let cwd = Path::new("/bench");
    let source = Memory(HashMap::from([(cwd.join("big.rs"), file.clone())]));
    c.bench_function("plan_50_hunks_20k_lines", |b| {
        b.iter(|| {
            let parsed = parse_patch(black_box(&patch)).unwrap();
            black_box(plan_patch(&parsed, cwd, &source).unwrap())
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("big.rs");
    c.bench_function("apply_50_hunks_20k_lines", |b| {
        b.iter_batched(
            || std::fs::write(&target, &file).unwrap(),
            |()| black_box(apply_patch(&patch, dir.path()).unwrap()),
            BatchSize::PerIteration,
        )
    });
    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);
}

criterion_group!(benches, bench);
criterion_main!(benches);
