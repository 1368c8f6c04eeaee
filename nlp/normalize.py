"""Text normalisation applied before any matching.

Residents type on phones: full-width letters, "！！！！", emoji, WeChat's own
placeholders ("[图片]", "[捂脸]") and @-mentions. None of that carries meaning
for the detector, and all of it can split or hide a keyword, so it is removed
or folded here. The lexicon's words go through the same function at load time,
so both sides of a comparison always look alike.

Everything here is pure and total: any `str` (lone surrogates, control
characters, megabytes) gives a `str`, never an exception.
"""
from __future__ import annotations

import re
import unicodedata

# Long forwarded articles would otherwise cost unbounded jieba time; a report
# worth flagging states its point early, so only a prefix is analysed.
DEFAULT_MAX_CHARS = 2000

# Invisible characters that break words apart without being seen: zero-width
# (space, joiners, marks, word joiner, BOM, soft hyphen) and lone surrogates,
# which cannot even be encoded to UTF-8.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")
# Control characters (but not the ordinary whitespace handled below).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# An @-mention ends at a space or U+2005 (WeChat inserts a four-per-em space
# after the name), or at the end of the message.
_MENTION = re.compile("@[^\\s@\u2005]{1,32}(?:[ \u2005]|$)")
# WeChat renders stickers, pictures and its built-in faces as short bracketed
# Chinese or English labels: [图片], [动画表情], [捂脸], [Smile].
_PLACEHOLDER = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]")
# Emoji and pictographs, their modifiers (variation selectors, skin tones,
# tag characters) and arrows/dingbats commonly used as decoration.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U000e0000-\U000e007f\u2190-\u21ff\u2300-\u23ff"
    "\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff\u3297\u3299\ufe0e\ufe0f]"
)
# A run of punctuation collapses to its first mark: "！！！" → "!", "。。。" → "。".
_PUNCT_RUN = re.compile(r"([!?,.;:~…。，、！？～·\-=_*#])[!?,.;:~…。，、！？～·\-=_*#]+")
_SPACES = re.compile(r"\s+")
# Characters that never need any of the work above; most chat lines consist
# only of these, so one C-level scan lets them skip the whole pipeline.
_PLAIN = re.compile("(?:[\u4e00-\u9fa5a-z0-9]|[。、“”](?![。、“”]))*")


def normalize(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Return the form of `text` the detector matches against.

    Full-width forms become half-width (NFKC), letters lower-case, placeholders,
    emoji, @-mentions and invisible characters disappear, runs of punctuation
    and whitespace shrink to one, and at most `max_chars` characters remain.
    """
    if not text:
        return ""
    # Bound the work before doing any of it: normalisation only ever shrinks
    # text (NFKC can expand a few ligatures, hence the margin).
    text = text[: max_chars * 2]
    if _PLAIN.fullmatch(text):
        return text[:max_chars]
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    # Mentions first: NFKC would turn U+2005 into an ordinary space.
    text = _MENTION.sub(" ", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    text = _PLACEHOLDER.sub("", text)
    # Emoji are removed, not replaced by a space: "没有😂打架" must keep its
    # negation next to the keyword.
    text = _EMOJI.sub("", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:max_chars]
