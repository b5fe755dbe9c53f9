//! Redaction: no report may carry a token or an auth header's value.
//!
//! Transcripts already replace the values `Target::secrets()` lists while recording.
//! This pass runs once more over a finished report, before any writer sees it, and
//! also covers what the transcript never saw: the target description (a command's
//! `--token X` argument, a URL's `user:password@` or `?api_key=`), stdio environment
//! values with secret-looking names, and auth headers or bearer tokens that a server
//! echoed back in a message or its stderr.

use super::Report;
use crate::target::{Target, is_secret_header};
use regex::Regex;
use std::sync::LazyLock;

pub const REDACTED: &str = "[REDACTED]";

/// Header-like `name: value` / `"name": "value"` / `name=value` pairs whose value is a credential.
static HEADER_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-access-token)("?\s*[:=]\s*"?)([^"\r\n]+)"#,
    )
    .expect("valid regex")
});
/// `Bearer <token>`; a token is told from prose by having a digit or one of `._~+/=-`.
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([Bb]earer|BEARER)\s+([A-Za-z0-9._~+/=-]{6,})").expect("valid regex"));
static URL_USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s?#]+@").expect("valid regex"));
static URL_QUERY_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)([?&](?:access_token|token|api_key|apikey|api-key|key|secret|password|passwd|auth|sig|signature)=)[^&#\s]+")
        .expect("valid regex")
});

/// Whether a name (an env var, a flag, a header) looks like it holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.trim_start_matches('-').to_ascii_lowercase().replace('_', "-");
    is_secret_header(&n)
        || n.contains("password")
        || n.contains("passwd")
        || n.contains("apikey")
        || n.contains("api-key")
        || n.contains("credential")
        || n == "auth"
        || n.ends_with("-auth")
        || n.ends_with("-key") && !n.ends_with("public-key")
}

/// Everything to redact for a target: its auth header values (and their tokens), the
/// values of secret-looking environment variables given to a stdio server, and the
/// values of its command's secret-looking arguments (`--token X`, `--api-key=X`,
/// `API_KEY=X`), which the transport's notes may echo.
pub fn secrets_of(target: &Target) -> Vec<String> {
    let mut out = target.secrets();
    if let Target::Stdio { env, command } = target {
        out.extend(env.iter().filter(|(k, _)| is_secret_name(k)).map(|(_, v)| v.clone()));
        out.extend(command_secrets(command));
    }
    out.retain(|s| s.len() >= 4);
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// Redact free text: listed secrets, auth header values, bearer tokens, URL credentials.
pub fn text(s: &str, secrets: &[String]) -> String {
    let mut out = s.to_string();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    let out = HEADER_VALUE.replace_all(&out, |c: &regex::Captures| {
        if c[3].trim() == REDACTED || c[3].trim_start().starts_with(REDACTED) {
            c[0].to_string()
        } else {
            format!("{}{}{REDACTED}", &c[1], &c[2])
        }
    });
    let out = BEARER.replace_all(&out, |c: &regex::Captures| {
        let token = &c[2];
        if token.bytes().any(|b| b.is_ascii_digit() || b"._~+/=-".contains(&b)) {
            format!("{} {REDACTED}", &c[1])
        } else {
            c[0].to_string()
        }
    });
    url(&out)
}

/// Redact a URL's user info and secret-named query parameters.
pub fn url(s: &str) -> String {
    let out = URL_USERINFO.replace_all(s, format!("${{1}}{REDACTED}@").as_str());
    URL_QUERY_SECRET.replace_all(&out, format!("${{1}}{REDACTED}").as_str()).into_owned()
}

/// The values of a command line's secret-looking arguments.
pub fn command_secrets(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut take_next = false;
    for a in args {
        if take_next {
            out.push(a.clone());
            take_next = false;
        } else if let Some((k, v)) = a.split_once('=')
            && is_secret_name(k)
        {
            out.push(v.to_string());
        } else if a.starts_with('-') && a.len() > 2 && is_secret_name(a) {
            take_next = true;
        }
    }
    out
}

/// Redact a command line: `--token X`, `--token=X`, `API_KEY=X`, and listed secrets.
pub fn command(args: &[String], secrets: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push(REDACTED.to_string());
            hide_next = false;
            continue;
        }
        if let Some((k, _)) = a.split_once('=')
            && is_secret_name(k)
        {
            out.push(format!("{k}={REDACTED}"));
            continue;
        }
        if a.starts_with('-') && a.len() > 2 && is_secret_name(a) {
            hide_next = true;
        }
        out.push(text(a, secrets));
    }
    out
}

/// Redact a whole report in place; idempotent.
pub fn report(report: &mut Report, secrets: &[String]) {
    if let Some(cmd) = &report.target.command {
        report.target.command = Some(command(cmd, secrets));
    }
    if let Some(u) = &report.target.url {
        report.target.url = Some(text(u, secrets));
    }
    for r in &mut report.results {
        result(r, secrets);
    }
}

/// Redact one result in place (the NDJSON stream redacts each as it is written).
pub fn result(r: &mut super::CheckResult, secrets: &[String]) {
    r.message = text(&r.message, secrets);
    for e in &mut r.transcript {
        // Replaced only when redaction changed it: entries share their text.
        let redacted = text(&e.raw, secrets);
        if *e.raw != *redacted {
            e.raw = redacted.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_headers_tokens_urls_and_flags() {
        let secrets = vec!["s3cr3t-value".to_string()];
        let cases = [
            ("Authorization: Bearer abc.def-ghi", "Authorization: [REDACTED]"),
            (r#"{"authorization":"Bearer xyz12345"}"#, r#"{"authorization":"[REDACTED]"}"#),
            ("token s3cr3t-value here", "token [REDACTED] here"),
            ("sent Bearer abcd1234 to it", "sent Bearer [REDACTED] to it"),
            ("https://bob:pw@example.com/mcp?api_key=k123&x=1", "https://[REDACTED]@example.com/mcp?api_key=[REDACTED]&x=1"),
            ("Cookie: session=abc; other=def", "Cookie: [REDACTED]"),
            ("plain text with no secret", "plain text with no secret"),
            ("Bearer tokens are described in basic/authorization", "Bearer tokens are described in basic/authorization"),
            ("Basic information about the server", "Basic information about the server"),
            ("bearer eyJhbGciOi.eyJzdWIi.sig", "bearer [REDACTED]"),
            ("Authorization: [REDACTED]", "Authorization: [REDACTED]"),
        ];
        for (input, want) in cases {
            assert_eq!(text(input, &secrets), want, "input {input:?}");
        }
        let cmd: Vec<String> = ["server", "--token", "t0k3n", "--api-key=abc", "GITHUB_TOKEN=ghp_x", "--port", "80"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            command(&cmd, &[]),
            ["server", "--token", "[REDACTED]", "--api-key=[REDACTED]", "GITHUB_TOKEN=[REDACTED]", "--port", "80"]
        );
    }

    #[test]
    fn stdio_env_secrets_are_listed() {
        let t = Target::Stdio {
            command: vec!["x".into()],
            env: vec![("API_KEY".into(), "abcdef".into()), ("PATH".into(), "/usr/bin".into())],
        };
        assert_eq!(secrets_of(&t), vec!["abcdef".to_string()]);
        let t = Target::Stdio {
            command: ["srv", "--auth-token", "tok123", "--password=pw1234", "--verbose"].map(String::from).to_vec(),
            env: Vec::new(),
        };
        assert_eq!(secrets_of(&t), vec!["pw1234".to_string(), "tok123".to_string()]);
    }
}
