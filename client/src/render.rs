//! Human-readable output of the daemon's answers.

use std::fmt::Write;

use skilld_proto::images::InspectResponse;
use skilld_proto::status::StatusResponse;

/// `1.5 MiB` style sizes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `sha256:0123456789ab` for tables.
pub fn short_digest(digest: &str) -> String {
    digest.chars().take(19).collect()
}

/// `text` on one line of at most `max` characters (an ellipsis when cut),
/// control characters shown as spaces: text from a registry must not move
/// the cursor or colour the terminal.
pub fn shorten(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<w$}  ", w = w);
            }
        }
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// The inspect block.
pub fn inspect(i: &InspectResponse) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut rows: Vec<(&str, String)> = vec![
        ("reference", i.reference.clone()),
        ("digest", i.digest.clone()),
        ("name", opt(&i.name)),
        ("title", opt(&i.title)),
        ("version", opt(&i.version)),
        ("status", i.status.map_or("-".into(), |s| s.to_string())),
        ("description", opt(&i.description)),
        ("created", opt(&i.created)),
        ("authors", opt(&i.authors)),
        ("license", opt(&i.license)),
        ("vendor", opt(&i.vendor)),
        ("source", opt(&i.source)),
        ("revision", opt(&i.revision)),
        ("compatibility", opt(&i.compatibility)),
        (
            "tags",
            if i.tags.is_empty() {
                "-".into()
            } else {
                i.tags.join(", ")
            },
        ),
        (
            "wordcount",
            i.wordcount.map_or("-".into(), |w| w.to_string()),
        ),
        ("format", format!("{:?}", i.format).to_lowercase()),
        ("media type", i.media_type.clone()),
        ("size", bytes(i.size)),
        (
            "config",
            format!(
                "{} {} ({})",
                i.config.media_type,
                short_digest(&i.config.digest),
                bytes(i.config.size)
            ),
        ),
    ];
    for layer in &i.layers {
        rows.push((
            "layer",
            format!(
                "{} {} ({})",
                layer.media_type,
                short_digest(&layer.digest),
                bytes(layer.size)
            ),
        ));
    }
    if !i.also_tagged.is_empty() {
        rows.push(("also tagged", i.also_tagged.join(", ")));
    }
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<14}{v}");
    }
    out
}

/// `3h 2m 5s` style durations.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m")] {
        if n > 0 || !out.is_empty() {
            let _ = write!(out, "{n}{unit} ");
        }
    }
    let _ = write!(out, "{s}s");
    out
}

/// The status block.
pub fn status(s: &StatusResponse) -> String {
    let p = &s.paths;
    let rows = [
        (
            "daemon",
            format!(
                "skilld {} (protocol {}), pid {}, up {}",
                s.version,
                s.protocol,
                s.pid,
                duration(s.uptime_secs)
            ),
        ),
        ("socket", p.socket.display().to_string()),
        ("config", p.config_file.display().to_string()),
        ("store", p.store_dir.display().to_string()),
        ("index", p.index_db.display().to_string()),
        ("images", s.counts.images.to_string()),
        ("installs", s.counts.installs.to_string()),
        (
            "next check",
            s.next_check
                .clone()
                .unwrap_or_else(|| "none scheduled".into()),
        ),
    ];
    let mut out = String::new();
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<11}{value}");
    }
    for f in &s.failing_registries {
        let _ = writeln!(
            out,
            "{:<11}{} ({} failure(s), retried at {}): {}",
            "failing", f.host, f.failures, f.retry_at, f.error
        );
    }
    out
}

/// Content scan findings as warnings on stderr, one line each.
pub fn findings(findings: &[skilld_proto::scan::Finding]) {
    for f in findings {
        eprintln!(
            "{}:{}:{}: {} {}: {} (skillc scan shows all)",
            f.file, f.line, f.column, f.severity, f.rule, f.why
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(50 * 1024 * 1024), "50.0 MiB");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["A", "BB"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "yy".into()],
            ],
        );
        assert_eq!(t, "A     BB\nlong  x\ns     yy\n");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(61), "1m 1s");
        assert_eq!(duration(3600), "1h 0m 0s");
        assert_eq!(duration(90_061), "1d 1h 1m 1s");
    }
}
