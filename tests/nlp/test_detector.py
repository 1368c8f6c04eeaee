"""Detector behaviour: one test per lexicon feature, SPEC examples, bad input,
the realistic group-message file, and fast path == full segmentation."""
from __future__ import annotations

import random

import jieba
import pytest

from nlp.detection import Detection
from nlp.detector import Detector
from nlp.evaluation import evaluate, read_rows
from nlp.normalize import normalize
from nlp.segment import PartialSegmenter
from tests.nlp.test_shared import DATA, shared_detector


@pytest.fixture(scope="module")
def detector() -> Detector:
    return shared_detector()


def flagged(detector: Detector, text: str) -> Detection:
    result = detector.detect(text)
    assert result.flagged, (text, result)
    return result


def not_flagged(detector: Detector, text: str) -> Detection:
    result = detector.detect(text)
    assert not result.flagged, (text, result)
    return result


# --- SPEC examples -----------------------------------------------------------------


def test_quarrel_about_to_become_a_fight_is_a_high_dispute(detector: Detector) -> None:
    result = flagged(detector, "楼下两个人吵起来了，快打架了")
    assert (result.category, result.severity) == ("dispute", "high")
    assert result.keywords == ("吵起来", "打架")
    assert result.emergency_number is None


@pytest.mark.parametrize(
    ("text", "category", "number"),
    [
        ("有人拿刀砍人了", "dispute", "110"),
        ("着火了，楼道里全是烟", "fire", "119"),
        # Someone in the water: 110, which dispatches rescue and ambulance together.
        ("有个小孩掉河里了", "drowning", "110"),
    ],
)
def test_life_at_risk_is_urgent_with_the_right_number(detector: Detector, text: str, category: str, number: str) -> None:
    result = flagged(detector, text)
    assert (result.category, result.severity, result.emergency_number) == (category, "urgent", number)
    assert result.urgent


@pytest.mark.parametrize("text", ["他在打架子鼓", "没有人打架", "【防溺水提醒】严禁私自下河游泳"])
def test_spec_negatives(detector: Detector, text: str) -> None:
    not_flagged(detector, text)


# --- one test per lexicon feature: the message without the feature would be wrong --


def test_word_boundary(detector: Detector) -> None:
    # 打架 occurs as a substring; only jieba's segmentation (打/架子鼓) tells it apart.
    flagged(detector, "他们在打架")
    assert detector.tokens("他在打架子鼓") == ["他", "在", "打", "架子鼓"]
    not_flagged(detector, "他在打架子鼓")


def test_boundary_words_hide_the_keyword_inside_them(detector: Detector) -> None:
    # [boundaries]: 防诈骗 is kept whole, so the 诈骗 inside it never counts.
    flagged(detector, "我妈被诈骗了两万")
    assert "诈骗" not in detector.tokens("今年的防诈骗知识竞赛大家报名了吗")
    not_flagged(detector, "今年的防诈骗知识竞赛大家报名了吗")


def test_negation(detector: Detector) -> None:
    flagged(detector, "有人打架")
    result = not_flagged(detector, "没有人打架")
    assert "negation:没有→打架" in result.rules


def test_clause_negation_covers_the_whole_clause(detector: Detector) -> None:
    # 要是 is five tokens before 跳楼: beyond a window negation, within its clause.
    flagged(detector, "我再胖下去就要跳楼了")
    result = not_flagged(detector, "我要是再胖下去就要跳楼了")
    assert any(rule.startswith("negation:要是") for rule in result.rules)


def test_reassurance(detector: Detector) -> None:
    flagged(detector, "刚才楼下两个人打架了")
    result = not_flagged(detector, "刚才楼下两个人打架了，已经调解好了")
    assert "reassurance:已经调解" in result.rules


def test_a_thing_of_the_missing_person_found_is_no_all_clear(detector: Detector) -> None:
    # "找到了" settles a search only when it is the person that was found.
    result = not_flagged(detector, "我家老人今天早上出门到现在没回来，已经找到了，谢谢大家")
    assert any(rule.startswith("reassurance:") for rule in result.rules)
    result = flagged(detector, "我家老人今天早上出门到现在没回来，在河堤上找到了他的拐杖，人还没看到")
    assert result.category == "missing"


def test_notice(detector: Detector) -> None:
    flagged(detector, "近期有人让我转账到安全账户")
    result = not_flagged(detector, "温馨提示：近期电信诈骗高发，凡是让你转账到安全账户的都是诈骗")
    assert any(rule.startswith("notice:") for rule in result.rules)


def test_notice_pattern(detector: Detector) -> None:
    # A regular expression in the lexicon: 【…提醒】 headings.
    flagged(detector, "小区里有人溺水了")
    result = not_flagged(detector, "【周末预警】小区里有人溺水了怎么办？教你三招")
    assert any(rule.startswith("notice:【") for rule in result.rules)


def test_old_and_distant_events(detector: Detector) -> None:
    flagged(detector, "我们小区有人打架")
    assert any(r.startswith("distant:去年") for r in not_flagged(detector, "去年我们小区也有人打架").rules)
    assert any(r.startswith("distant:") for r in not_flagged(detector, "看新闻说外地有个小孩掉河里了").rules)
    # Fraud is exempt from far-away places: the scammer is always elsewhere.
    flagged(detector, "我在外地的儿子打电话说被抓了，让我转账交保证金")


def test_an_old_story_told_in_another_sentence_does_not_withdraw_todays_report(detector: Detector) -> None:
    # The old event withdraws only the sentence it is told in (suppression_reach).
    assert any(r.startswith("distant:去年") for r in not_flagged(detector, "去年他们两家打起来了，拿着棍子").rules)
    flagged(detector, "去年他们两家也吵过一次。今天下午两家又打起来了，拿着棍子")
    # Far from the report, even in one unpunctuated voice message.
    flagged(detector, "去年过年我们一家人去外婆家住了半个月天天吃腊肉喝米酒打麻将舅舅还带我们去山上砍柴烧火做饭挖冬笋摘橘子晚上围着火炉讲古热闹得不得了今天下午两家又打起来了拿着棍子")


def test_suppression_reach_zero_keeps_the_whole_message_rule(tmp_path) -> None:
    from nlp.lexicon import BUILTIN_LEXICON

    text = BUILTIN_LEXICON.read_text(encoding="utf-8").replace("suppression_reach = 60", "suppression_reach = 0")
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    whole = Detector.load(path)
    not_flagged(whole, "去年他们两家也吵过一次。今天下午两家又打起来了，拿着棍子")


def test_a_negative_suppression_reach_is_one_line(tmp_path) -> None:
    from nlp.lexicon import BUILTIN_LEXICON, LexiconError, load_lexicon

    path = tmp_path / "lexicon.toml"
    path.write_text(BUILTIN_LEXICON.read_text(encoding="utf-8").replace("suppression_reach = 60", "suppression_reach = -1"), encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        load_lexicon(path)
    assert "suppression_reach" in str(err.value) and "\n" not in str(err.value)


def test_combination(detector: Detector) -> None:
    # Neither part is enough alone; together they are a campus report.
    not_flagged(detector, "学校门口新开了一家文具店")
    not_flagged(detector, "有个陌生男子在问路")
    result = flagged(detector, "学校门口有个陌生男子一直盯着小孩看")
    assert result.category == "campus"
    assert "combo:校门口+陌生男子" in result.rules


def test_exclusion(detector: Detector) -> None:
    flagged(detector, "我家孩子走丢了")
    result = not_flagged(detector, "我家猫走丢了，橘色的，有看到的联系我")
    assert "exclusion:猫→走丢" in result.rules


def test_raise_to_urgent_for_the_injured(detector: Detector) -> None:
    assert flagged(detector, "撞车了").severity == "normal"
    result = flagged(detector, "撞车了，有个人躺在地上流了好多血")
    assert (result.category, result.severity, result.emergency_number) == ("traffic", "urgent", "120")


def test_urgent_category_wins_over_a_louder_one(detector: Detector) -> None:
    result = flagged(detector, "两家人吵架吵了一晚上，刚才有人着火了")
    assert (result.category, result.emergency_number) == ("fire", "119")


def test_keywords_and_rules_explain_the_verdict(detector: Detector) -> None:
    result = flagged(detector, "我妈接到电话说是公安局的，说她涉嫌洗钱，让她转账")
    assert result.category == "fraud"
    assert {"公安局", "洗钱", "转账"} <= set(result.keywords)
    assert "combo:转账+安全账户" in result.rules
    assert result.score >= 1.0


def test_normalisation_happens_before_matching(detector: Detector) -> None:
    # Mention, emoji, placeholder, zero-width space and full-width letters.
    result = flagged(detector, "@李警官\u2005楼下有人打\u200b架😡[图片]，ＱＱ上还有人骗钱")
    assert result.category == "dispute"


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "x" * 1_000_000,
        "楼下有人打架" * 200_000,
        "\x00\x01\x02打架\x7f\x1b[31m",
        "\ud800打架\udfff\udc00",
        "\u200b\u200c\u200d\ufeff",
        "😀😀😀🔥🔥",
        "👨‍👩‍👧‍👦",
        "[图片][动画表情]",
        "@平安助手",
        "！！！？？？。。。",
    ],
)
def test_any_string_gets_a_verdict(detector: Detector, text: str) -> None:
    for result in (detector.detect(text), detector.detect_reference(text)):
        assert isinstance(result, Detection)
        assert not any(rule.startswith("error:") for rule in result.rules)


def test_huge_message_is_analysed_on_a_bounded_prefix(detector: Detector) -> None:
    assert detector.detect("楼下有人打架。" + "好" * 1_000_000).flagged
    assert not detector.detect("好" * 1_000_000 + "楼下有人打架。").flagged


def test_zero_width_characters_do_not_hide_a_keyword(detector: Detector) -> None:
    assert flagged(detector, "着\u200b火\u200d了").category == "fire"


# --- the realistic group messages ----------------------------------------------------


def test_group_messages_recall_and_false_positives(detector: Detector) -> None:
    report = evaluate(read_rows(DATA / "group_messages.tsv"), detector.detect)
    positives = [(row, det) for row, det in report.results if row.accepted]
    negatives = [(row, det) for row, det in report.results if row.negative]
    assert len(positives) >= 150 and len(negatives) >= 200
    recall = sum(det.flagged and det.category in row.accepted for row, det in positives) / len(positives)
    false_positive_rate = sum(det.flagged for _, det in negatives) / len(negatives)
    assert recall >= 0.90, report.false_negatives()
    assert false_positive_rate <= 0.02, report.false_positives()


# --- the fast path gives the verdict of a full segmentation ---------------------------


def verdict(result: Detection) -> tuple[object, ...]:
    """What the bot acts on. (An unflagged reference may list more words it
    looked at: the fast path never segments what cannot flag.)"""
    keywords = result.keywords if result.flagged else ()
    return (result.flagged, result.category, result.severity, result.emergency_number, keywords)


def test_fast_path_equals_full_segmentation_on_group_messages(detector: Detector) -> None:
    for row in read_rows(DATA / "group_messages.tsv"):
        assert verdict(detector.detect(row.text)) == verdict(detector.detect_reference(row.text)), row.text


def test_fast_path_equals_full_segmentation_on_generated_messages(detector: Detector) -> None:
    # Lexicon words, negations and filler in random order: word boundaries,
    # negation reach and window merging all get exercised.
    lexicon = detector.lexicon
    pieces = sorted(lexicon.token_words() | lexicon.boundaries) + [
        "的", "了", "在", "人", "有", "我们", "小区", "门口", "，", "。", " ", "a1", "被告人", "驾驶",
        "QQ", "APP", "DIGIT", "！！",
    ]
    rng = random.Random(3)
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        assert verdict(detector.detect(text)) == verdict(detector.detect_reference(text)), text


def _cuts(detector: Detector, text: str, segmenter: PartialSegmenter) -> list[list[str]]:
    """The windows `detect` would cut in `text`, by `segmenter` (None: when nothing may flag)."""
    normal = normalize(text, detector.lexicon.max_chars)
    words = detector._prescan.words(normal, detector._find_words(normal, True))
    if not words.may_flag:
        return []
    markers = detector._prescan.markers(normal)
    return segmenter.cut_around(normal, words.spans, markers.negation_starts, markers.clause_starts, markers.inside_long_words)


def test_the_installed_package_cuts_with_the_compiled_lattice(detector: Detector) -> None:
    # `pip install` builds nlp/_lattice.c; without it the detector is about 8% slower.
    assert detector._segmenter.compiled


def test_the_compiled_lattice_cuts_as_the_python_reference(detector: Detector) -> None:
    reference = PartialSegmenter(detector._tokenizer, frozenset(detector.lexicon.token_words()), compiled=False)
    assert not reference.compiled
    lexicon = detector.lexicon
    # Long dictionary words (crossed positions), runs of ASCII letters and
    # digits jieba glues, negations reaching back, several keywords in a block.
    pieces = sorted(lexicon.token_words() | lexicon.boundaries) + [
        "的", "了", "人", "中华人民共和国", "被告人", "a", "b1", "3", "x", "，", " ", "没有", "不是", "喝醉酒",
    ]
    rng = random.Random(11)
    texts = [row.text for row in read_rows(DATA / "group_messages.tsv")]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 20))) for _ in range(1500)]
    cut = 0
    for text in texts:
        compiled = _cuts(detector, text, detector._segmenter)
        assert compiled == _cuts(detector, text, reference), text
        cut += bool(compiled)
    assert cut > 1000  # most of them reach the lattice


def test_the_compiled_lattice_refuses_what_it_cannot_read(detector: Detector) -> None:
    lattice = detector._segmenter._lattice
    with pytest.raises(TypeError):
        lattice.windows("打架", "not a list", 0, 0, set(), 0, 0)
    with pytest.raises(TypeError):
        lattice.windows("打架", [(0, 2)], 0, 0, set(), 0, 0)
    with pytest.raises(IndexError):
        lattice.best_path("打架", 0, 5)
    assert lattice.best_path("楼下有人打架", 0, 6) == detector._tokenizer.lcut("楼下有人打架", HMM=False)


def test_private_tokenizer_leaves_global_jieba_alone(detector: Detector) -> None:
    # 吵相骂 (Shanghainese "quarrel") is a lexicon word, not a jieba one.
    assert "吵相骂" in detector.lexicon.words
    assert detector.tokens("楼下在吵相骂") == ["楼下", "在", "吵相骂"]
    assert not jieba.dt.FREQ.get("吵相骂")


def test_upper_case_latin_counts_like_lower_case(detector: Detector) -> None:
    # Residents type QQ and APP in capitals; the lexicon holds qq号. The fast
    # path lower-cases such lines instead of fully normalising them.
    text = "加我QQ号，刷单返利，先转账"
    result = detector.detect(text)
    assert result.flagged and result.category == "fraud"
    assert "qq号" in result.keywords
    assert verdict(result) == verdict(detector.detect_reference(text))


def test_games_cancel_play_fights_but_not_money_lost_to_traders(detector: Detector) -> None:
    # In-game kills and in-game "scams" are play; money paid to a stranger
    # for game items is real fraud.
    assert not detector.detect("这把王者打得好气，被对面砍死了好几次").flagged
    assert not detector.detect("游戏里被人骗了装备，气死了").flagged
    result = detector.detect("我儿子玩游戏卖装备，对方叫他扫码交保证金，把我微信里的钱都转走了")
    assert result.flagged and result.category == "fraud"
