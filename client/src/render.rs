//! Human-readable output of the daemon's answers.

use std::fmt::Write;

use skilld_proto::status::StatusResponse;

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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(61), "1m 1s");
        assert_eq!(duration(3600), "1h 0m 0s");
        assert_eq!(duration(90_061), "1d 1h 1m 1s");
    }
}
