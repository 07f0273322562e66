//! The function's one setting: the bus, named by `EVENT_BUS` (set by the template; the names of
//! every variable are in `consent_aws::config`).

use consent_aws::config::{ConfigError, EVENT_BUS};

/// The bus name or ARN from `lookup` (a variable's value by name); blank counts as unset.
pub fn event_bus(lookup: impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    lookup(EVENT_BUS)
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ConfigError::Missing(vec![EVENT_BUS]))
}

/// The bus name or ARN from the process's environment.
pub fn event_bus_from_env() -> Result<String, ConfigError> {
    event_bus(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_is_required_and_trimmed() {
        assert!(matches!(
            event_bus(|_| Some("  ".to_string())),
            Err(ConfigError::Missing(names)) if names == [EVENT_BUS]
        ));
        assert!(event_bus(|_| None).is_err());
        let arn = "arn:aws:events:us-east-1:123456789012:event-bus/consent";
        assert_eq!(
            event_bus(|name| (name == EVENT_BUS).then(|| format!(" {arn}\n"))).ok(),
            Some(arn.to_string())
        );
    }
}
