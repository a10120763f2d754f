//! Commands that only read, and so may run without asking under the `untrusted` policy.
//!
//! The list is deliberately short and conservative: a command is safe only if every flag it
//! could take is harmless, or the dangerous flags are rejected here. `bash -lc "..."` is safe
//! only when the script is a plain pipeline of safe commands, with no redirection or expansion.

/// True when `argv` reads and never writes, spawns arbitrary programs or reaches the network.
pub fn is_known_safe(argv: &[String]) -> bool {
    if let Some(script) = shell_script(argv) {
        return split_plain_script(script)
            .is_some_and(|cmds| !cmds.is_empty() && cmds.iter().all(|c| is_safe_simple(c)));
    }
    is_safe_simple(argv)
}

/// The script of `bash -lc SCRIPT`, `sh -c SCRIPT` and the like.
fn shell_script(argv: &[String]) -> Option<&str> {
    let [shell, flag, script] = argv else {
        return None;
    };
    let name = basename(shell);
    let is_shell = matches!(name, "bash" | "sh" | "zsh" | "dash");
    let is_c = matches!(flag.as_str(), "-c" | "-lc" | "-cl");
    (is_shell && is_c).then_some(script.as_str())
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_safe_simple(argv: &[String]) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let args = &argv[1..];
    match basename(program) {
        "cat" | "cd" | "cut" | "echo" | "expr" | "false" | "grep" | "head" | "id" | "ls" | "nl"
        | "paste" | "pwd" | "rev" | "seq" | "stat" | "tail" | "tr" | "true" | "uname" | "uniq"
        | "wc" | "which" | "whoami" | "numfmt" | "tac" | "file" | "du" | "df" | "basename"
        | "dirname" | "realpath" | "readlink" | "printf" | "date" | "tree" => true,
        "base64" => !args.iter().any(|a| a == "-o" || a.starts_with("--output")),
        "find" => !args.iter().any(|a| {
            matches!(
                a.as_str(),
                "-exec"
                    | "-execdir"
                    | "-ok"
                    | "-okdir"
                    | "-delete"
                    | "-fls"
                    | "-fprint"
                    | "-fprint0"
                    | "-fprintf"
            )
        }),
        "rg" => !args.iter().any(|a| {
            a == "--pre"
                || a.starts_with("--pre=")
                || a.starts_with("--hostname-bin")
                || a == "-z"
                || a == "--search-zip"
        }),
        "git" => is_safe_git(args),
        "sed" => is_safe_sed(args),
        _ => false,
    }
}

fn is_safe_git(args: &[String]) -> bool {
    let Some(sub) = args.first() else {
        return false;
    };
    let rest = &args[1..];
    let risky = |a: &String| {
        a == "-c"
            || a.starts_with("--config-env")
            || a.starts_with("--output")
            || a.starts_with("--ext-diff")
            || a.starts_with("--textconv")
            || a.starts_with("--exec")
            || a == "-p"
            || a.starts_with("--paginate")
    };
    if rest.iter().any(risky) {
        return false;
    }
    match sub.as_str() {
        "status" | "log" | "diff" | "show" | "rev-parse" | "ls-files" | "blame" => true,
        // Only the listing forms of `git branch`: creating or deleting a branch writes.
        "branch" => rest.iter().all(|a| {
            matches!(
                a.as_str(),
                "-a" | "--all" | "-r" | "--remotes" | "-v" | "-vv" | "--list" | "--show-current"
            )
        }),
        _ => false,
    }
}

/// `sed -n 5,10p FILE`: printing a line range is the one common, harmless use.
fn is_safe_sed(args: &[String]) -> bool {
    if args.len() > 3 || args.first().map(String::as_str) != Some("-n") {
        return false;
    }
    let Some(expr) = args.get(1) else {
        return false;
    };
    let Some(range) = expr.strip_suffix('p') else {
        return false;
    };
    let mut parts = range.split(',');
    let is_num =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let first_ok = is_num(parts.next());
    let second_ok = match parts.next() {
        None => true,
        some => is_num(some),
    };
    first_ok && second_ok && parts.next().is_none()
}

/// Split a script into simple commands joined by `&&`, `||`, `;` or `|`. Returns `None` when the
/// script uses anything beyond that (quotes spanning operators are handled; redirection,
/// substitution, globbing of variables, subshells and background jobs are not "plain").
fn split_plain_script(script: &str) -> Option<Vec<Vec<String>>> {
    let mut commands = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let finish_word = |word: &mut String, in_word: &mut bool, current: &mut Vec<String>| {
        if *in_word {
            current.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => word.push(ch),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' | '\\' => return None,
                        ch => word.push(ch),
                    }
                }
            }
            ' ' | '\t' | '\n' => finish_word(&mut word, &mut in_word, &mut current),
            ';' | '|' | '&' => {
                finish_word(&mut word, &mut in_word, &mut current);
                if c == '&' && chars.next_if_eq(&'&').is_none() {
                    return None; // A background job.
                }
                if c == '|' {
                    chars.next_if_eq(&'|');
                }
                if current.is_empty() {
                    return None;
                }
                commands.push(std::mem::take(&mut current));
            }
            '>' | '<' | '$' | '`' | '(' | ')' | '{' | '}' | '\\' | '*' | '?' | '[' | '~' | '!' => {
                return None;
            }
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut current);
    if !current.is_empty() {
        commands.push(current);
    }
    Some(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn bash(script: &str) -> Vec<String> {
        vec!["bash".into(), "-lc".into(), script.into()]
    }

    #[test]
    fn table_of_simple_commands() {
        let cases = [
            ("ls -la", true),
            ("cat src/lib.rs", true),
            ("/bin/ls", true),
            ("rm -rf /", false),
            ("cargo test", false),
            ("find . -name x", true),
            ("find . -delete", false),
            ("find . -exec rm {} ;", false),
            ("rg foo", true),
            ("rg --pre sh foo", false),
            ("git status", true),
            ("git log -p", false),
            ("git -c core.pager=x log", false),
            ("git branch", true),
            ("git branch new-branch", false),
            ("git push", false),
            ("sed -n 1,10p f", true),
            ("sed -i s/a/b/ f", false),
            ("base64 -o out f", false),
            ("python3 -c 1", false),
        ];
        for (cmd, safe) in cases {
            assert_eq!(is_known_safe(&argv(cmd)), safe, "{cmd}");
        }
    }

    #[test]
    fn table_of_scripts() {
        let cases = [
            ("ls && pwd", true),
            ("cat a | grep b | wc -l", true),
            ("grep 'a b' f; echo done", true),
            ("ls > out", false),
            ("echo $(rm x)", false),
            ("cat `x`", false),
            ("ls & rm x", false),
            ("ls && rm x", false),
            ("echo \"$HOME\"", false),
            ("", false),
            ("ls ||", true),
        ];
        for (script, safe) in cases {
            assert_eq!(is_known_safe(&bash(script)), safe, "{script}");
        }
    }
}
