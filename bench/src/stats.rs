//! Percentiles and the formatting of durations, computed here (nearest rank) rather than with a
//! histogram crate.

use std::time::Duration;

/// The summary of a set of samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// The 50th percentile.
    pub p50: Duration,
    /// The 90th percentile.
    pub p90: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest sample.
    pub max: Duration,
    /// The mean.
    pub mean: Duration,
}

/// The nearest-rank percentile `p` (0 to 100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises the samples.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let total: Duration = sorted.iter().sum();
    Summary {
        count: sorted.len(),
        p50: percentile(&sorted, 50.0),
        p90: percentile(&sorted, 90.0),
        p99: percentile(&sorted, 99.0),
        max: sorted.last().copied().unwrap_or_default(),
        mean: if sorted.is_empty() {
            Duration::ZERO
        } else {
            total / u32::try_from(sorted.len()).unwrap_or(u32::MAX)
        },
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1_000.0)
}

/// Microseconds or milliseconds, whichever reads better.
pub fn short(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1_000_000.0;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else {
        format!("{:.2} ms", micros / 1_000.0)
    }
}

/// A ratio with two decimals.
pub fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "-".to_string();
    }
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

/// Bytes as MiB (or KiB below one MiB).
pub fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.2} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// A count with thousands separators.
pub fn thousands(n: f64) -> String {
    let whole = n.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        let s = summarize(&samples);
        assert_eq!(s.p50, Duration::from_millis(5));
        assert_eq!(s.p90, Duration::from_millis(9));
        assert_eq!(s.p99, Duration::from_millis(10));
        assert_eq!(thousands(1234567.0), "1,234,567");
    }
}
