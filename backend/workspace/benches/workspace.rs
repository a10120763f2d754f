//! Criterion benchmarks (mean and median): a one-character `didChange` on a 5 MB document, and
//! focus → context preview with 1,000 open files. `benches/figures.rs` reports the p99s and the
//! memory ratio; `scripts/bench/workspace` runs both.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn did_change(c: &mut Criterion) {
    let mut ws = common::workspace(0, 0);
    let path = common::file(0);
    let text = common::text(5 << 20, 1);
    let lines = text.lines().count();
    ws.did_open(&path, 1, &text).unwrap();
    let mut typist = common::Typist::new(lines);
    let mut version = 1;
    c.bench_function("did_change 1 char, 5 MB document", |b| {
        b.iter(|| {
            version += 1;
            ws.did_change(&path, version, &[typist.next()]).unwrap();
        })
    });

    // The same with 41 pending hunks on the document, re-anchored on every keystroke.
    common::propose_40_hunks(&mut ws, &path, &text);
    c.bench_function("did_change 1 char, 5 MB document, 41 pending hunks", |b| {
        b.iter(|| {
            version += 1;
            ws.did_change(&path, version, &[typist.next()]).unwrap();
        })
    });
}

fn preview(c: &mut Criterion) {
    let mut ws = common::workspace(1_000, 10 * 1024);
    let mut i = 0usize;
    c.bench_function("focus + context preview, 1,000 open files", |b| {
        b.iter(|| {
            i = (i + 7) % 1_000;
            ws.set_focus(common::focus(&common::file(i), 100));
            black_box(ws.context_preview());
        })
    });
}

criterion_group!(benches, did_change, preview);
criterion_main!(benches);
