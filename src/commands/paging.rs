//! Long lists shown a page at a time: the page of a list, its footer, and the previous/next
//! buttons, whose ids repeat the command with another `page:` (pinned to the player shown, so
//! whoever presses them pages through the same list).

use super::{Button, ButtonStyle, Invocation};
use crate::db;
use crate::period::DateRange;

pub const PAGE_SIZE: usize = 10;

/// Option a page button carries when the invoker named no player and had none linked, so the
/// list stays the same list whoever presses the button (not the presser's linked player).
pub const NO_DEFAULT: &str = "nolink";

/// Previous/next buttons for a list of `total` entries shown `PAGE_SIZE` at a time.
pub fn page_buttons(inv: &Invocation, page: usize, total: usize) -> Vec<Button> {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    if pages <= 1 {
        return Vec::new();
    }
    vec![
        Button {
            id: format!("pg:{}", inv.with("page", page.saturating_sub(1)).to_line()),
            label: "◀ Previous".into(),
            style: ButtonStyle::Secondary,
            disabled: page == 0,
        },
        Button {
            id: format!("pg:{}", inv.with("page", page + 1).to_line()),
            label: "Next ▶".into(),
            style: ButtonStyle::Secondary,
            disabled: page + 1 >= pages,
        },
    ]
}

/// The page of `items` to show, clamped to the last page.
pub fn page_of<T>(items: &[T], page: usize) -> (usize, &[T]) {
    let pages = items.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let start = page * PAGE_SIZE;
    (
        page,
        &items[start.min(items.len())..(start + PAGE_SIZE).min(items.len())],
    )
}

pub fn page_footer(page: usize, total: usize, range: &DateRange) -> String {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    format!(
        "{} · page {} of {pages}",
        range.label,
        page.min(pages - 1) + 1
    )
}

/// The invocation a page button repeats: the player shown now is written into it, or
/// [`NO_DEFAULT`] when none is, so a click by someone else pages through the same reply.
pub fn pinned(inv: &Invocation, player: Option<&db::players::Player>) -> Invocation {
    match player {
        Some(p) => {
            let mut next = inv.with("player", &p.guid);
            next.options.remove("partner");
            next
        }
        None => inv.with(NO_DEFAULT, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_clamp_and_buttons_point_to_neighbours() {
        let items: Vec<u32> = (0..25).collect();
        let (page, shown) = page_of(&items, 7);
        assert_eq!(page, 2);
        assert_eq!(shown, &[20, 21, 22, 23, 24]);
        let inv = Invocation::parse("/solo period:all").unwrap();
        let buttons = page_buttons(&inv, 0, 25);
        assert!(buttons[0].disabled);
        assert_eq!(buttons[1].id, "pg:/solo page:1 period:all");
        assert!(page_buttons(&inv, 0, 5).is_empty());
    }
}
