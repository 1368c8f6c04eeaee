"""The detector's lexicon: a TOML data file, parsed and checked here.

Officers tune words, not code, so every mistake in the file must come back as
one line that names the file, the key and what is wrong with it — never a
traceback, and never a lexicon that silently half-works.

File layout (see nlp/data/lexicon.toml for the commented original):

    threshold = 1.0            # a category flags when its score reaches this
    max_chars = 2000           # characters analysed (after normalisation)
    negation_window = 3        # tokens before a keyword searched for a negation
    word_freq_floor = 1000     # least jieba frequency of a multi-character keyword
    suppression_reach = 60     # [[distant]] phrases count this near a keyword (0: anywhere)
    number_priority = ["119", "120", "110"]

    [categories.<id>]          # one of nlp.detection.CATEGORIES
    severity = "normal"        # severity when no word raises it
    [[categories.<id>.words]]  # a group of words sharing weight/severity/number
    weight = 1.0
    severity = "urgent"        # optional
    number = "110"             # required when severity is urgent
    words = ["砍人", ...]

    [[combos]]                 # words that only count together
    category, weight, severity?, number?, name?, all = [[alternatives], ...]

    [[raise]]                  # raise the severity of an already flagged message
    severity, number?, words, categories?

    [negation]  words, clause_words, clause_categories?
                               # a negation shortly before a keyword (words) or anywhere
                               # before it in its clause (clause_words) cancels it
    [boundaries] words         # longer words kept whole: 防诈骗 hides 诈骗
    [[notice]]      phrases, patterns?, categories?  # publicity, forwarded notices
    [[distant]]     phrases, patterns?, categories?  # old or far-away events
    [[reassurance]] phrases, patterns?, categories?  # "是误会": report withdrawn
    [[exclusions]]  phrases, words?, categories?     # contexts that cancel words

Keywords (category words, combo parts, raise words, negations, boundaries) are
matched as whole jieba tokens; notice/distant/reassurance/exclusion phrases as
substrings of the normalised text, because they are multi-word expressions
whose segmentation varies; patterns are regular expressions on that text.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from nlp.detection import CATEGORIES, SEVERITIES, SEVERITY_RANK
from nlp.lexicon_rules import (
    NUMBERS,
    SUPPRESSION_KINDS,
    Combo,
    Lexicon,
    LexiconError,
    PhraseRule,
    Raise,
    Suppression,
    WordRule,
)
from nlp.normalize import DEFAULT_MAX_CHARS, normalize

# The rules live in nlp/lexicon_rules.py; callers import them from here, as before.
__all__ = [
    "BUILTIN_LEXICON", "NUMBERS", "SEVERITY_RANK", "SUPPRESSION_KINDS", "Combo", "Lexicon",
    "LexiconError", "PhraseRule", "Raise", "Suppression", "WordRule", "load_lexicon",
]

BUILTIN_LEXICON = Path(__file__).parent / "data" / "lexicon.toml"

# jieba only ever emits a multi-character token made of these characters
# (its `re_han_default`); a keyword with anything else could never match.
_TOKEN_CHARS = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """Read and validate a lexicon file (None: the built-in one)."""
    path = Path(path) if path is not None else BUILTIN_LEXICON
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LexiconError(path, "", f"无法读取文件（{exc.strerror or exc}）") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise LexiconError(path, "", "文件不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(path, "", f"TOML 语法错误：{exc}") from None
    return _Parser(path).parse(data)


# bot/config/reader.py has a parser of the same shape for pingan.toml. The two stay
# separate on purpose: this one stops at the first problem (one line naming the file)
# while the config's collects every problem, their messages differ word for word
# (operators read both), and nlp may not import bot. A shared helper would have to be
# told both policies and both wordings: more code than the duplication it removes.
class _Parser:
    """Turns the TOML tree into a Lexicon, naming the exact key on any error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen_words: dict[str, str] = {}

    def fail(self, key: str, problem: str) -> LexiconError:
        return LexiconError(self.path, key, problem)

    # --- typed getters -------------------------------------------------------------

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "应为表（table）")
        for name in data:
            if name not in allowed:
                sub = f"{key}.{name}" if key else name
                raise self.fail(sub, f"未知的键，可用的键：{', '.join(sorted(allowed))}")
        return data

    def number(self, data: dict[str, Any], key: str, name: str, default: float) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.fail(f"{key}.{name}" if key else name, "应为正数")
        return float(value)

    def integer(self, data: dict[str, Any], key: str, name: str, default: int) -> int:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(f"{key}.{name}" if key else name, "应为非负整数")
        return value

    def severity(self, data: dict[str, Any], key: str, required: bool) -> str | None:
        value = data.get("severity")
        if value is None and not required:
            return None
        if value not in SEVERITIES:
            raise self.fail(f"{key}.severity", f"应为 {' / '.join(SEVERITIES)} 之一")
        return value

    def emergency_number(self, data: dict[str, Any], key: str, severity: str | None) -> str | None:
        value = data.get("number")
        if value is None:
            if severity == "urgent":
                raise self.fail(f"{key}.number", "紧急（urgent）规则必须给出报警电话 110 / 119 / 120")
            return None
        if value not in NUMBERS:
            raise self.fail(f"{key}.number", "应为 \"110\"、\"119\" 或 \"120\"")
        return value

    def strings(self, data: dict[str, Any], key: str, name: str, *, required: bool) -> list[str]:
        sub = f"{key}.{name}" if key else name
        value = data.get(name)
        if value is None:
            if required:
                raise self.fail(sub, "缺少此键")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(sub, "应为字符串列表")
        out = []
        for i, item in enumerate(value):
            norm = normalize(item)
            if not norm:
                raise self.fail(f"{sub}[{i}]", "不能为空字符串")
            out.append(norm)
        if required and not out:
            raise self.fail(sub, "列表不能为空")
        return out

    def token(self, word: str, key: str) -> str:
        if not _TOKEN_CHARS.fullmatch(word):
            raise self.fail(key, f"“{word}”含有空格或标点，分词后不可能整词匹配")
        return word

    def categories(self, data: dict[str, Any], key: str, name: str = "categories") -> frozenset[str]:
        cats = self.strings(data, key, name, required=False)
        for i, cat in enumerate(cats):
            if cat not in CATEGORIES:
                raise self.fail(f"{key}.{name}[{i}]", f"未知类别“{cat}”，可用：{', '.join(CATEGORIES)}")
        return frozenset(cats)

    def claim(self, word: str, key: str) -> None:
        """A keyword may belong to only one category group: its meaning must be unambiguous."""
        if word in self.seen_words:
            raise self.fail(key, f"词语“{word}”重复，已出现在 {self.seen_words[word]}")
        self.seen_words[word] = key

    # --- sections -------------------------------------------------------------------

    def parse(self, data: dict[str, Any]) -> Lexicon:
        top = self.table(
            data,
            "",
            {
                "version", "threshold", "max_chars", "negation_window", "word_freq_floor", "suppression_reach", "number_priority",
                "categories", "combos", "raise", "negation", "boundaries", "exclusions",
                *SUPPRESSION_KINDS,
            },
        )
        threshold = self.number(top, "", "threshold", 1.0)
        max_chars = self.integer(top, "", "max_chars", DEFAULT_MAX_CHARS)
        if max_chars < 1:
            raise self.fail("max_chars", "应为正整数")
        window = self.integer(top, "", "negation_window", 3)
        freq_floor = self.integer(top, "", "word_freq_floor", 1000)
        reach = self.integer(top, "", "suppression_reach", 0)
        if reach < 0:
            raise self.fail("suppression_reach", "应为 0 或正整数")
        priority = tuple(top.get("number_priority", ["119", "120", "110"]))
        if sorted(priority) != sorted(NUMBERS):
            raise self.fail("number_priority", "应恰好列出 \"110\"、\"119\"、\"120\" 各一次")

        default_severity: dict[str, str] = {}
        words: dict[str, WordRule] = {}
        cats = self.table(top.get("categories", {}), "categories", set(CATEGORIES))
        if not cats:
            raise self.fail("categories", "至少需要一个类别")
        for cat, body in cats.items():
            key = f"categories.{cat}"
            body = self.table(body, key, {"severity", "words"})
            default_severity[cat] = self.severity(body, key, required=True)  # type: ignore[assignment]
            groups = body.get("words")
            if not isinstance(groups, list) or not groups:
                raise self.fail(f"{key}.words", "应为非空的词组数组（[[categories.<类别>.words]]）")
            for gi, group in enumerate(groups):
                gkey = f"{key}.words[{gi}]"
                group = self.table(group, gkey, {"weight", "severity", "number", "words"})
                weight = self.number(group, gkey, "weight", 1.0)
                severity = self.severity(group, gkey, required=False)
                number = self.emergency_number(group, gkey, severity)
                for wi, word in enumerate(self.strings(group, gkey, "words", required=True)):
                    wkey = f"{gkey}.words[{wi}]"
                    self.claim(self.token(word, wkey), wkey)
                    words[word] = WordRule(word, cat, weight, severity, number)

        combos = []
        for ci, body in enumerate(self.array(top, "combos")):
            key = f"combos[{ci}]"
            body = self.table(body, key, {"name", "category", "weight", "severity", "number", "all"})
            cat = body.get("category")
            if cat not in CATEGORIES:
                raise self.fail(f"{key}.category", f"未知类别“{cat}”，可用：{', '.join(CATEGORIES)}")
            severity = self.severity(body, key, required=False)
            parts_raw = body.get("all")
            if not isinstance(parts_raw, list) or len(parts_raw) < 2:
                raise self.fail(f"{key}.all", "应为至少两组候选词的数组，如 [[\"转账\"], [\"安全账户\"]]")
            parts = []
            for pi, alternatives in enumerate(parts_raw):
                pkey = f"{key}.all[{pi}]"
                alts = self.strings({"x": alternatives}, pkey, "x", required=True)
                parts.append(frozenset(self.token(w, pkey) for w in alts))
            name = body.get("name") or "+".join(sorted(p)[0] for p in parts)
            if not isinstance(name, str):
                raise self.fail(f"{key}.name", "应为字符串")
            combos.append(
                Combo(
                    name=name,
                    category=cat,
                    weight=self.number(body, key, "weight", 1.0),
                    severity=severity,
                    number=self.emergency_number(body, key, severity),
                    parts=tuple(parts),
                )
            )

        raises = []
        for ri, body in enumerate(self.array(top, "raise")):
            key = f"raise[{ri}]"
            body = self.table(body, key, {"severity", "number", "words", "categories"})
            severity = self.severity(body, key, required=True)
            raises.append(
                Raise(
                    severity=severity,  # type: ignore[arg-type]
                    number=self.emergency_number(body, key, severity),
                    words=frozenset(self.token(w, key + ".words") for w in self.strings(body, key, "words", required=True)),
                    categories=self.categories(body, key),
                )
            )

        negation = self.table(top.get("negation", {}), "negation", {"words", "clause_words", "clause_categories"})
        negations = frozenset(
            self.token(w, "negation.words") for w in self.strings(negation, "negation", "words", required=False)
        )
        clause_negations = frozenset(
            self.token(w, "negation.clause_words")
            for w in self.strings(negation, "negation", "clause_words", required=False)
        )
        for key, group in (("negation.words", negations), ("negation.clause_words", clause_negations)):
            for word in group:
                if word in words:
                    raise self.fail(key, f"“{word}”同时是类别词，无法判断")

        boundaries_table = self.table(top.get("boundaries", {}), "boundaries", {"words"})
        boundaries = frozenset(
            self.token(w, "boundaries.words")
            for w in self.strings(boundaries_table, "boundaries", "words", required=False)
        )

        for word in boundaries & set(words):
            raise self.fail("boundaries.words", f"“{word}”同时是类别词，无法判断")

        suppressions = []
        for kind in SUPPRESSION_KINDS:
            for si, body in enumerate(self.array(top, kind)):
                key = f"{kind}[{si}]"
                body = self.table(body, key, {"phrases", "patterns", "categories"})
                phrases = tuple(self.strings(body, key, "phrases", required=False))
                patterns = self.patterns(body, key)
                if not phrases and not patterns:
                    raise self.fail(key, "至少需要 phrases 或 patterns 之一")
                suppressions.append(Suppression(kind, phrases, patterns, self.categories(body, key)))

        exclusions = []
        for ei, body in enumerate(self.array(top, "exclusions")):
            key = f"exclusions[{ei}]"
            body = self.table(body, key, {"phrases", "words", "categories"})
            excluded_words = frozenset(self.strings(body, key, "words", required=False))
            exclusions.append(
                PhraseRule(
                    tuple(self.strings(body, key, "phrases", required=True)),
                    self.categories(body, key),
                    excluded_words,
                )
            )

        return Lexicon(
            path=str(self.path),
            threshold=threshold,
            max_chars=max_chars,
            negation_window=window,
            word_freq_floor=freq_floor,
            suppression_reach=reach,
            number_priority=priority,
            default_severity=default_severity,
            words=words,
            combos=tuple(combos),
            raises=tuple(raises),
            negations=negations,
            clause_negations=clause_negations,
            clause_categories=self.categories(negation, "negation", "clause_categories"),
            boundaries=boundaries,
            suppressions=tuple(suppressions),
            exclusions=tuple(exclusions),
        )

    def patterns(self, body: dict[str, Any], key: str) -> tuple[re.Pattern[str], ...]:
        raw = body.get("patterns", [])
        if not isinstance(raw, list):
            raise self.fail(f"{key}.patterns", "应为字符串（正则表达式）列表")
        out = []
        for pi, pattern in enumerate(raw):
            if not isinstance(pattern, str) or not pattern:
                raise self.fail(f"{key}.patterns[{pi}]", "应为非空字符串（正则表达式）")
            try:
                out.append(re.compile(pattern))
            except re.error as exc:
                raise self.fail(f"{key}.patterns[{pi}]", f"正则表达式无效：{exc}") from None
        return tuple(out)

    def array(self, top: dict[str, Any], name: str) -> list[Any]:
        value = top.get(name, [])
        if not isinstance(value, list):
            raise self.fail(name, f"应为表数组（[[{name}]]）")
        return value
