//! Auto Context: what the agent is told about the editor with each turn, within a budget.
//!
//! Inputs are the focus (file, cursor, selections, visible lines), the open documents with the
//! order they were last focused in, and the diagnostics the client forwards. The output is a
//! [`ContextPreview`]: exactly the text that would be sent, item by item, with token counts and
//! the files left out and why. [`render`] turns it into the kernel's input blocks, so what a
//! person previews is what the model gets.
//!
//! The budget is filled in order of how directly the user pointed at something: the
//! selections, the focused file around the cursor (widened to the visible lines when there is
//! room), the diagnostics (focused file first, errors first), then other open files, most
//! recently focused first. Files the [`filter`] refuses are never read into the preview at all.

pub mod filter;
mod render;
mod tokens;

pub use filter::{ExclusionReason, PatternError, SECRET_PATTERNS};
pub use render::render;
pub use tokens::estimate_tokens;

use crate::document::DocumentStore;
use crate::position::{self, Encoding, LineCol};
use filter::SecretFilter;
use ropey::Rope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Auto Context settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextConfig {
    pub enabled: bool,
    /// Tokens for the whole context, as [`estimate_tokens`] counts them.
    pub budget_tokens: usize,
    /// Lines of the focused file around the cursor.
    pub focus_lines_before: usize,
    pub focus_lines_after: usize,
    /// How many other open files may be included, and how much of each.
    pub max_open_files: usize,
    pub open_file_max_tokens: usize,
    pub max_diagnostics: usize,
    /// Extra globs never to send (see [`filter::SecretFilter::new`]).
    pub deny_globs: Vec<String>,
    /// Workspace roots: files outside them are left out, and their `.gitignore`s apply.
    pub roots: Vec<PathBuf>,
    pub respect_gitignore: bool,
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            budget_tokens: 8_000,
            focus_lines_before: 40,
            focus_lines_after: 40,
            max_open_files: 8,
            open_file_max_tokens: 1_000,
            max_diagnostics: 50,
            deny_globs: Vec::new(),
            roots: Vec::new(),
            respect_gitignore: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        }
    }
}

/// A diagnostic the client saw (from any language server), positions already converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub start: LineCol,
    pub end: LineCol,
    pub severity: Severity,
    pub message: String,
    pub source: Option<String>,
}

/// Where the user is, positions already converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    pub path: PathBuf,
    pub cursor: LineCol,
    /// Selections as (start, end); empty ones are ignored.
    pub selections: Vec<(LineCol, LineCol)>,
    /// Visible line spans, inclusive.
    pub visible_lines: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Focus,
    Selection,
    OpenFile,
    Diagnostics,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Focus => "focus",
            ItemKind::Selection => "selection",
            ItemKind::OpenFile => "open_file",
            ItemKind::Diagnostics => "diagnostics",
        }
    }
}

/// One block of context, exactly as it would be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextItem {
    pub kind: ItemKind,
    pub path: Arc<Path>,
    /// The span of the file the text covers, in the editor's encoding (none for diagnostics).
    pub range: Option<position::Range>,
    /// Zero-based first and last line (inclusive) the text covers.
    pub lines: Option<(u32, u32)>,
    pub text: String,
    pub tokens: usize,
    /// The text was cut to fit.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub path: Arc<Path>,
    pub reason: ExclusionReason,
}

/// What Auto Context would send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextPreview {
    pub enabled: bool,
    pub items: Vec<ContextItem>,
    pub total_tokens: usize,
    pub budget: usize,
    pub excluded: Vec<Exclusion>,
}

/// When a path was last focused (a tick of [`ContextEngine::set_focus`]) and its cursor line.
type Seen = (u64, u32);

/// The Auto Context state: focus, recency and diagnostics, plus the cached file filter.
#[derive(Debug)]
pub struct ContextEngine {
    config: ContextConfig,
    filter: SecretFilter,
    focus: Option<Focus>,
    tick: u64,
    /// Per path: when it was last focused, and the cursor line then.
    recency: HashMap<Arc<Path>, Seen>,
    diagnostics: HashMap<Arc<Path>, Vec<Diagnostic>>,
}

impl ContextEngine {
    pub fn new(config: ContextConfig) -> Result<Self, PatternError> {
        let filter = SecretFilter::new(
            config.roots.clone(),
            &config.deny_globs,
            config.respect_gitignore,
        )?;
        Ok(Self {
            config,
            filter,
            focus: None,
            tick: 0,
            recency: HashMap::new(),
            diagnostics: HashMap::new(),
        })
    }

    pub fn config(&self) -> &ContextConfig {
        &self.config
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.config.enabled = enabled;
    }

    /// Replaces the configuration (rebuilding the filter).
    pub fn reconfigure(&mut self, config: ContextConfig) -> Result<(), PatternError> {
        self.filter = SecretFilter::new(
            config.roots.clone(),
            &config.deny_globs,
            config.respect_gitignore,
        )?;
        self.config = config;
        Ok(())
    }

    /// A `.gitignore` changed: forget cached verdicts.
    pub fn invalidate_filter(&mut self) {
        self.filter.invalidate();
    }

    pub fn set_focus(&mut self, focus: Focus) {
        self.tick += 1;
        self.recency.insert(
            Arc::from(focus.path.as_path()),
            (self.tick, focus.cursor.line),
        );
        self.focus = Some(focus);
    }

    pub fn focus(&self) -> Option<&Focus> {
        self.focus.as_ref()
    }

    /// Replaces the diagnostics of one file (an empty list clears them).
    pub fn set_diagnostics(&mut self, path: &Path, diagnostics: Vec<Diagnostic>) {
        if diagnostics.is_empty() {
            self.diagnostics.remove(path);
        } else {
            self.diagnostics.insert(Arc::from(path), diagnostics);
        }
    }

    /// A document was closed: it is no longer a candidate (its diagnostics stay, as editors
    /// keep showing them).
    pub fn closed(&mut self, path: &Path) {
        self.recency.remove(path);
        if self.focus.as_ref().is_some_and(|f| f.path == path) {
            self.focus = None;
        }
    }

    /// Builds the preview. Cheap enough to call on every turn and every preview request.
    pub fn preview(&mut self, docs: &DocumentStore, enc: Encoding) -> ContextPreview {
        let budget = self.config.budget_tokens;
        if !self.config.enabled {
            return ContextPreview {
                enabled: false,
                items: Vec::new(),
                total_tokens: 0,
                budget,
                excluded: Vec::new(),
            };
        }
        let mut b = Builder {
            excluded: Vec::new(),
            remaining: budget,
            enc,
        };
        let focus = self.focus.clone();
        let focus_key: Option<Arc<Path>> = focus.as_ref().map(|f| Arc::from(f.path.as_path()));
        let mut focus_items = Vec::new();
        if let (Some(f), Some(key)) = (&focus, &focus_key) {
            match (self.filter.check(key), docs.get(key)) {
                (Some(reason), _) => b.excluded.push(Exclusion {
                    path: key.clone(),
                    reason,
                }),
                (None, Some(doc)) => {
                    focus_items = b.focus(&self.config, key, doc.text(), f);
                }
                (None, None) => {}
            }
        }
        // Diagnostics, focused file first, then by recency.
        let mut diag_paths: Vec<&Arc<Path>> = self.diagnostics.keys().collect();
        diag_paths.sort_by_key(|p| {
            let focused = Some(*p) == focus_key.as_ref();
            (
                !focused,
                std::cmp::Reverse(self.recency.get(*p).map(|r| r.0)),
                (*p).clone(),
            )
        });
        let mut diag_items = Vec::new();
        let mut shown = 0;
        for path in diag_paths {
            if shown >= self.config.max_diagnostics || b.remaining == 0 {
                break;
            }
            if self.filter.check(path).is_some() {
                continue; // Reported once, below or above, as a file.
            }
            let mut diags: Vec<&Diagnostic> = self.diagnostics[path].iter().collect();
            diags.sort_by_key(|d| (d.severity, d.start));
            let limit = self.config.max_diagnostics - shown;
            if let Some((item, n)) = b.diagnostics(path, &diags[..diags.len().min(limit)]) {
                shown += n;
                diag_items.push(item);
            }
        }
        // Other open files by recency; never-focused ones last, in path order.
        let mut others: Vec<(&Arc<Path>, Option<Seen>)> = docs
            .paths()
            .filter(|p| Some(*p) != focus_key.as_ref())
            .map(|p| (p, self.recency.get(p).copied()))
            .collect();
        // Byte order for ties: `Path::cmp` walks components and is ten times slower.
        others.sort_unstable_by(|a, b| {
            b.1.map(|r| r.0).cmp(&a.1.map(|r| r.0)).then_with(|| {
                a.0.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.0.as_os_str().as_encoded_bytes())
            })
        });
        let mut file_items = Vec::new();
        for (path, recent) in others {
            if let Some(reason) = self.filter.check(path) {
                b.excluded.push(Exclusion {
                    path: path.clone(),
                    reason,
                });
                continue;
            }
            if file_items.len() >= self.config.max_open_files {
                b.excluded.push(Exclusion {
                    path: path.clone(),
                    reason: ExclusionReason::Limit,
                });
                continue;
            }
            let doc = docs.get(path).expect("listed by the store");
            let cursor_line = recent.map(|r| r.1);
            match b.open_file(&self.config, path, doc.text(), cursor_line) {
                Some(item) => file_items.push(item),
                None => b.excluded.push(Exclusion {
                    path: path.clone(),
                    reason: ExclusionReason::OverBudget,
                }),
            }
        }
        let mut items = focus_items;
        items.extend(diag_items);
        items.extend(file_items);
        let total_tokens = items.iter().map(|i| i.tokens).sum();
        ContextPreview {
            enabled: true,
            items,
            total_tokens,
            budget,
            excluded: b.excluded,
        }
    }
}

struct Builder {
    excluded: Vec<Exclusion>,
    remaining: usize,
    enc: Encoding,
}

/// Lines `first..=last` of a rope (clamped), as text.
fn lines_text(text: &Rope, first: usize, last: usize) -> String {
    let n = text.len_lines();
    let last = last.min(n.saturating_sub(1));
    let start = text.line_to_byte(first.min(n));
    let end = if last + 1 >= n {
        text.len_bytes()
    } else {
        text.line_to_byte(last + 1)
    };
    text.byte_slice(start..end.max(start)).to_string()
}

impl Builder {
    fn take(&mut self, tokens: usize) -> bool {
        if tokens <= self.remaining {
            self.remaining -= tokens;
            true
        } else {
            false
        }
    }

    fn lines_item(
        &self,
        kind: ItemKind,
        path: &Arc<Path>,
        text: &Rope,
        first: usize,
        last: usize,
        truncated: bool,
    ) -> ContextItem {
        let body = lines_text(text, first, last);
        let tokens = estimate_tokens(&body);
        let start = text.line_to_byte(first.min(text.len_lines()));
        // The last line the text really covers: not the empty line after a final line break.
        let end_line = if body.is_empty() {
            first.min(text.len_lines().saturating_sub(1))
        } else {
            text.byte_to_line(start + body.len() - 1)
        };
        let range = position::offsets_to_range(text, start..start + body.len(), self.enc);
        ContextItem {
            kind,
            path: path.clone(),
            range: Some(range),
            lines: Some((first as u32, end_line as u32)),
            text: body,
            tokens,
            truncated,
        }
    }

    /// The largest run of lines from `first` towards `last` that fits in `max` tokens.
    fn fit_lines(text: &Rope, first: usize, last: usize, max: usize) -> Option<usize> {
        let mut used = 0;
        let mut end = None;
        for line in first..=last.min(text.len_lines().saturating_sub(1)) {
            // Per chunk, without building the line: rounding per chunk only over-counts.
            used += text.line(line).chunks().map(estimate_tokens).sum::<usize>();
            if used > max {
                break;
            }
            end = Some(line);
        }
        end
    }

    /// The selections, then the cursor window (widened to the visible lines if there is room).
    fn focus(
        &mut self,
        config: &ContextConfig,
        path: &Arc<Path>,
        text: &Rope,
        focus: &Focus,
    ) -> Vec<ContextItem> {
        let mut out = Vec::new();
        for &(a, b) in &focus.selections {
            let (a, b) = (
                position::line_col_to_offset(text, a),
                position::line_col_to_offset(text, b),
            );
            let (start, end) = (a.min(b), a.max(b));
            if start == end {
                continue;
            }
            let mut body = text.byte_slice(start..end).to_string();
            let mut tokens = estimate_tokens(&body);
            let mut truncated = false;
            if tokens > self.remaining {
                // Keep whole lines from the start of the selection.
                let first = text.byte_to_line(start);
                let Some(last) =
                    Self::fit_lines(text, first, text.byte_to_line(end), self.remaining)
                else {
                    continue;
                };
                let cut = text.line_to_byte(last + 1).clamp(start, end);
                body = text.byte_slice(start..cut).to_string();
                tokens = estimate_tokens(&body);
                truncated = true;
            }
            if !self.take(tokens) {
                continue;
            }
            let end = start + body.len();
            out.push(ContextItem {
                kind: ItemKind::Selection,
                path: path.clone(),
                range: Some(position::offsets_to_range(text, start..end, self.enc)),
                lines: Some((
                    text.byte_to_line(start) as u32,
                    text.byte_to_line(end) as u32,
                )),
                text: body,
                tokens,
                truncated,
            });
        }
        let cursor = focus.cursor.line as usize;
        let first = cursor.saturating_sub(config.focus_lines_before);
        let last = cursor + config.focus_lines_after;
        let (mut wide_first, mut wide_last) = (first, last);
        for &(a, b) in &focus.visible_lines {
            wide_first = wide_first.min(a.min(b) as usize);
            wide_last = wide_last.max(a.max(b) as usize);
        }
        let candidates = [(wide_first, wide_last), (first, last)];
        let mut chosen = None;
        for (f, l) in candidates {
            let item = self.lines_item(ItemKind::Focus, path, text, f, l, false);
            if item.tokens <= self.remaining {
                chosen = Some(item);
                break;
            }
        }
        if chosen.is_none() {
            // Shrink around the cursor until it fits.
            let (mut before, mut after) = (config.focus_lines_before, config.focus_lines_after);
            while before + after > 0 {
                before /= 2;
                after /= 2;
                let item = self.lines_item(
                    ItemKind::Focus,
                    path,
                    text,
                    cursor.saturating_sub(before),
                    cursor + after,
                    true,
                );
                if item.tokens <= self.remaining {
                    chosen = Some(item);
                    break;
                }
            }
        }
        match chosen {
            Some(item) => {
                self.take(item.tokens);
                out.insert(0, item);
            }
            None => self.excluded.push(Exclusion {
                path: path.clone(),
                reason: ExclusionReason::OverBudget,
            }),
        }
        out
    }

    fn diagnostics(
        &mut self,
        path: &Arc<Path>,
        diags: &[&Diagnostic],
    ) -> Option<(ContextItem, usize)> {
        let mut body = String::new();
        let mut tokens = 0;
        let mut n = 0;
        for d in diags {
            let source = d
                .source
                .as_deref()
                .map(|s| format!("[{s}]"))
                .unwrap_or_default();
            let message: String = d.message.chars().take(400).collect();
            let line = format!(
                "{}:{}:{}: {}{source}: {}\n",
                path.display(),
                d.start.line + 1,
                d.start.col + 1,
                d.severity.as_str(),
                message.replace('\n', " ")
            );
            let t = estimate_tokens(&line);
            if tokens + t > self.remaining {
                break;
            }
            tokens += t;
            body.push_str(&line);
            n += 1;
        }
        if n == 0 {
            return None;
        }
        self.take(tokens);
        Some((
            ContextItem {
                kind: ItemKind::Diagnostics,
                path: path.clone(),
                range: None,
                lines: None,
                text: body,
                tokens,
                truncated: n < diags.len(),
            },
            n,
        ))
    }

    /// A window of an open file: around its last cursor line, or its head.
    fn open_file(
        &mut self,
        config: &ContextConfig,
        path: &Arc<Path>,
        text: &Rope,
        cursor_line: Option<u32>,
    ) -> Option<ContextItem> {
        let max = config.open_file_max_tokens.min(self.remaining);
        if max == 0 {
            return None;
        }
        let first = cursor_line
            .map(|l| (l as usize).saturating_sub(config.focus_lines_before / 2))
            .unwrap_or(0);
        let n = text.len_lines();
        let last = Self::fit_lines(text, first, n.saturating_sub(1), max)?;
        let truncated = first > 0 || last + 1 < n;
        let item = self.lines_item(ItemKind::OpenFile, path, text, first, last, truncated);
        self.take(item.tokens).then_some(item)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
