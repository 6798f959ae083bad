//! A command as a line of text (`/duo player:Slomix period:7d`): what the console (`etprox
//! ask`) reads and what buttons carry in their ids, with the helpers each command's
//! `from_invocation` uses to read its options into its typed form.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::CommandError;
use crate::period::Period;

/// A parsed command line: `/retention archive days:30 dry_run:true`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Invocation {
    pub name: String,
    pub subcommand: Option<String>,
    pub options: BTreeMap<String, String>,
}

fn user_error<T>(message: impl Into<String>) -> Result<T, CommandError> {
    Err(CommandError::User(message.into()))
}

impl Invocation {
    /// An invocation of `name` with no options (what `to_invocation` starts from).
    pub fn new(name: &str) -> Invocation {
        Invocation {
            name: name.into(),
            ..Invocation::default()
        }
    }

    /// Adds `key:value` when there is a value (builder for `to_invocation`).
    pub fn set(mut self, key: &str, value: Option<impl ToString>) -> Invocation {
        if let Some(v) = value {
            self.options.insert(key.into(), v.to_string());
        }
        self
    }

    /// Parses `/name [sub] key:value key:"value with spaces"`.
    pub fn parse(line: &str) -> Result<Invocation, CommandError> {
        let words = split_words(line.trim())?;
        let mut words = words.into_iter();
        let Some(first) = words.next() else {
            return user_error("empty command: try /solo or /duo player:NAME");
        };
        let name = first.trim_start_matches('/').to_ascii_lowercase();
        let mut invocation = Invocation::new(&name);
        let takes_sub = super::registry::has_subcommands(&name);
        for word in words {
            match word.split_once(':') {
                Some((key, value)) if !key.is_empty() => {
                    invocation
                        .options
                        .insert(key.to_ascii_lowercase(), value.to_owned());
                }
                _ if takes_sub
                    && invocation.subcommand.is_none()
                    && invocation.options.is_empty() =>
                {
                    invocation.subcommand = Some(word.to_ascii_lowercase());
                }
                _ => {
                    return user_error(format!(
                        "cannot read {word:?}: options are written name:value (quote values with spaces)"
                    ))
                }
            }
        }
        Ok(invocation)
    }

    /// The line that parses back into this invocation (used in button ids).
    pub fn to_line(&self) -> String {
        let mut line = format!("/{}", self.name);
        if let Some(sub) = &self.subcommand {
            line.push(' ');
            line.push_str(sub);
        }
        for (key, value) in &self.options {
            if value.is_empty() || value.contains([' ', '"']) {
                line.push_str(&format!(" {key}:\"{}\"", value.replace('"', "'")));
            } else {
                line.push_str(&format!(" {key}:{value}"));
            }
        }
        line
    }

    /// The option's text; blank counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The option as owned text (trimmed of nothing: names may hold spaces).
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    /// Any [`Period`] form; `default` when absent.
    pub fn period(&self, default: Period) -> Result<Period, CommandError> {
        match self.get("period") {
            Some(text) => text.parse().map_err(|e| CommandError::User(format!("{e}"))),
            None => Ok(default),
        }
    }

    /// The page a button asks for; anything unreadable is the first.
    pub fn page(&self) -> usize {
        self.get("page")
            .and_then(|p| p.trim().parse::<usize>().ok())
            .unwrap_or(0)
    }

    pub fn flag(&self, key: &str) -> Result<bool, CommandError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "yes" | "1" | "on") => Ok(true),
            Some("false" | "no" | "0" | "off") => Ok(false),
            Some(other) => user_error(format!("{key}: {other:?} is not true or false")),
        }
    }

    /// A whole number in `range`, `default` when absent; `what` finishes the error message
    /// ("a number of days from 1 to 36500").
    pub fn number<T>(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<T>,
        default: T,
        what: &str,
    ) -> Result<T, CommandError>
    where
        T: FromStr + PartialOrd,
    {
        match self.get(key) {
            None => Ok(default),
            Some(s) => match s.trim().parse::<T>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => user_error(format!("{key}: {s:?} is not {what}")),
            },
        }
    }

    /// A copy with `key` set to `value`.
    pub fn with(&self, key: &str, value: impl ToString) -> Invocation {
        let mut next = self.clone();
        next.options.insert(key.into(), value.to_string());
        next
    }
}

/// A value read from an option together with the words it was written as, so the typed
/// command can be written back into a line (heatmap filters have no printed form of their own).
#[derive(Debug, Clone, PartialEq)]
pub struct Spelled<T> {
    pub text: String,
    pub value: T,
}

impl<T: FromStr<Err = String>> Spelled<T> {
    /// Parses `text` (trimmed); the error names the option.
    pub fn parse(key: &str, text: &str) -> Result<Spelled<T>, CommandError> {
        let text = text.trim();
        match text.parse::<T>() {
            Ok(value) => Ok(Spelled {
                text: text.to_owned(),
                value,
            }),
            Err(e) => user_error(format!("{key}: {e}")),
        }
    }

    /// The option `key` of `inv`, if given.
    pub fn option(inv: &Invocation, key: &str) -> Result<Option<Spelled<T>>, CommandError> {
        inv.get(key).map(|t| Spelled::parse(key, t)).transpose()
    }
}

impl<T> std::fmt::Display for Spelled<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Splits on spaces, keeping `"quoted text"` (after `key:` or alone) together.
fn split_words(line: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return user_error("a quote is not closed");
    }
    if any {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_parse_and_print_back() {
        let inv = Invocation::parse(r#"/duo player:Slomix partner:"big boss" period:7d"#).unwrap();
        assert_eq!(inv.name, "duo");
        assert_eq!(inv.get("partner"), Some("big boss"));
        assert_eq!(inv.get("period"), Some("7d"));
        assert_eq!(Invocation::parse(&inv.to_line()).unwrap(), inv);
        let inv = Invocation::parse("/retention archive days:30 dry_run:true").unwrap();
        assert_eq!(inv.subcommand.as_deref(), Some("archive"));
        assert!(inv.flag("dry_run").unwrap());
        assert!(Invocation::parse("/solo stray").is_err());
        assert!(Invocation::parse("/solo player:\"open").is_err());
        assert!(Invocation::parse("").is_err());
    }

    #[test]
    fn periods_parse_every_form() {
        let inv = |line: &str| Invocation::parse(line).unwrap();
        assert_eq!(
            inv("/solo period:7D").period(Period::All).unwrap(),
            Period::WEEK
        );
        assert_eq!(inv("/solo").period(Period::MONTH).unwrap(), Period::MONTH);
        assert_eq!(
            inv("/solo period:2026-11-01..2026-11-20")
                .period(Period::All)
                .unwrap()
                .to_string(),
            "2026-11-01..2026-11-20"
        );
        assert!(inv("/solo period:year").period(Period::All).is_err());
    }

    #[test]
    fn numbers_are_checked_against_their_range() {
        let inv = Invocation::parse("/retention archive days:0").unwrap();
        let err = inv.number("days", 1..=10, 5, "a day count").unwrap_err();
        assert_eq!(err.to_string(), "days: \"0\" is not a day count");
        assert_eq!(inv.number("other", 1..=10, 5, "x").unwrap(), 5);
    }
}
