//! The confirmation page's form: which button was pressed. The body is read as
//! `application/x-www-form-urlencoded` whatever type the client claims (a browser's form always
//! sends it so, and a click without a body is the confirm it always was).

/// The button pressed: the form field `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `action=confirm`, or no `action` at all.
    Confirm,
    /// `action=decline`: "this isn't me / no thanks".
    Decline,
}

/// Reads `action` from a form body. `None`: an `action` that is neither `confirm` nor
/// `decline`, or both at once; nothing must change then.
pub fn action_of(body: &[u8]) -> Option<Action> {
    let mut action = None;
    for pair in body.split(|b| *b == b'&') {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[..0]),
        };
        if form_decode(name) != b"action" {
            continue;
        }
        let this = match form_decode(value).as_slice() {
            b"confirm" => Action::Confirm,
            b"decline" => Action::Decline,
            _ => return None,
        };
        if action.is_some_and(|a| a != this) {
            return None;
        }
        action = Some(this);
    }
    Some(action.unwrap_or(Action::Confirm))
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte; a malformed escape stays
/// as it is, so it matches nothing.
fn form_decode(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escaped = match text.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)),
            _ => None,
        };
        match (escaped, text[i]) {
            (Some((high, low)), _) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_pressed_is_read_and_anything_else_refused() {
        for (body, expected) in [
            (&b""[..], Some(Action::Confirm)),
            (b"action=confirm", Some(Action::Confirm)),
            (b"action=decline", Some(Action::Decline)),
            (b"other=1&action=decline&x", Some(Action::Decline)),
            (b"%61ction=decl%69ne", Some(Action::Decline)),
            (b"action=decline&action=decline", Some(Action::Decline)),
            (b"{\"x\":1}", Some(Action::Confirm)),
            (b"action=confirm&action=decline", None),
            (b"action=DECLINE", None),
            (b"action=", None),
            (b"action", None),
            (b"action=stop+texts", None),
            (b"action=%ZZ", None),
            (b"action=decline%", None),
            (b"action=\xff\xfe", None),
        ] {
            assert_eq!(
                action_of(body),
                expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
