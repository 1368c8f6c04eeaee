"""Urgency apart from category: each sign of a life at risk, and the numbers it calls for.

Every message here is one that the lexicon alone (the first stage, as the bot
had it before urgency was judged on its own) does not make urgent with all the
right numbers; `test_the_lexicon_alone_misses_them` shows it, so each case
fails if the urgency judgement (its phrases and the model's urgency head) is
taken away.
"""
from __future__ import annotations

import pytest

from nlp.classifier import Classifier
from nlp.features import prepare
from nlp.urgency import NO_URGENCY, UrgencyJudge

# (message, the numbers the first reply must name)
SIGNALS = [
    ("他流血了，止不住", ("120",)),  # bleeding
    ("切菜的师傅刀滑了，手掌血肉模糊", ("120",)),  # a wound described, no blood named (missed in round 34)
    ("老人在小区门口突然倒地，叫不醒了", ("120",)),  # unconscious
    ("我爸刚才一直在抽，嘴里吐白沫", ("120",)),  # seizure
    ("厨房液化气罐漏气了，满屋子都是味道", ("119",)),  # gas
    ("厨房起火了，我妈手上烫伤了一大片", ("119", "120")),  # fire and an injury
    ("电梯卡住了，里面关着一个老人出不来", ("119",)),  # trapped
    ("桥下面有个孩子在水里扑腾", ("110",)),  # in the water
    ("我被人跟踪了，他一直跟着我走", ("110",)),  # followed
    ("有个男的把一个小孩拽上车开走了", ("110",)),  # taken
    ("18栋楼顶坐着个人，说不想活了", ("110", "120")),  # about to jump
    ("他被捅了一刀，地上都是血", ("110", "120")),  # a stabbing: police and ambulance
    ("厨房里一股很重的煤气味，我婆婆晕倒在地上", ("119", "120")),  # gas and unconscious
]

NOT_URGENT = [
    "刚才那集男主跳楼了，编剧是不是疯了",  # fiction
    "去年那场火灾的赔偿款下来了",  # old news
    "没有人流血，就是吵了几句",  # negated
    "这天热得我整个人要着火了",  # figurative (a phrase that is not a signal)
    "救命啊这题太难了 笑死",  # joke
]


@pytest.mark.parametrize(("text", "numbers"), SIGNALS)
def test_each_signal_makes_the_report_urgent_with_its_numbers(classifier: Classifier, text: str, numbers) -> None:
    result = classifier.detect(text)
    assert result.flagged and result.tier == "flagged", result
    assert result.severity == "urgent", result.rules
    assert set(numbers) <= set(result.numbers), (result.numbers, result.rules)


@pytest.mark.parametrize(("text", "numbers"), SIGNALS)
def test_the_lexicon_alone_misses_them(classifier: Classifier, text: str, numbers) -> None:
    """The first stage alone (no urgency phrases, no model): not urgent, or a number short."""
    lexicon_only = Classifier(classifier.lexicon, None, UrgencyJudge([], [], 4, []))
    result = lexicon_only.detect(text)
    assert not (result.urgent and set(numbers) <= set(result.numbers))


@pytest.mark.parametrize(("text", "numbers"), SIGNALS)
def test_the_urgency_rules_alone_catch_them(rules_only: Classifier, text: str, numbers) -> None:
    """Without the learned model: the urgency phrases are a floor of their own."""
    result = rules_only.detect(text)
    assert result.urgent and set(numbers) <= set(result.numbers), (result.numbers, result.rules)


@pytest.mark.parametrize("text", NOT_URGENT)
def test_fiction_old_news_negation_and_jokes_are_not_urgent(classifier: Classifier, text: str) -> None:
    assert not classifier.detect(text).urgent


def test_urgent_signals_are_never_left_to_the_suspected_tier(classifier: Classifier) -> None:
    for text, _ in SIGNALS:
        assert classifier.detect(text).tier != "suspected"


def test_a_stabbing_is_a_dispute_or_security_report_that_calls_for_120_too(classifier: Classifier) -> None:
    result = classifier.detect("楼下两个人打架，一个被捅伤了")
    assert result.urgent and {"110", "120"} <= set(result.numbers)


def test_the_judge_reports_what_cancelled_a_signal() -> None:
    judge = UrgencyJudge.load()
    assert not judge.judge("没有人流血").any
    assert any(r.startswith("negation:") for r in judge.judge("没有人流血").cancelled)
    assert any(r.startswith("context:") for r in judge.judge("电视剧里他跳楼了").cancelled)


def test_a_context_in_another_sentence_cancels_nothing() -> None:
    # "去年" near a signal in the same sentence is an old story; after a full
    # stop it is background, and today's signal stands.
    judge = UrgencyJudge.load()
    assert not judge.judge("去年他家着火了").any
    assert judge.judge("去年也出过事。他家着火了").strong


def test_a_full_width_sentence_end_ends_the_old_story_too(classifier: Classifier) -> None:
    # normalize() keeps "！" when the message has nothing else to change, so the
    # full-width marks must end a sentence as "!" does: "去年…！" is background,
    # the fire and the bleeding after it are today's.
    for text, numbers in (
        ("去年他家着过火！现在他家又着火了，烟好大", ("119",)),
        ("去年他们也打过一架！现在两家人又打起来了，有人流血了", ("110", "120")),
    ):
        assert classifier.urgency.judge(prepare(text)).strong
        detection = classifier.detect(text)
        assert detection.urgent and set(numbers) <= set(detection.numbers), text


def test_a_live_signal_after_a_tv_scene_is_judged_without_the_scene(classifier: Classifier) -> None:
    # The model read the whole message as talk about a drama and silenced the
    # stabbing downstairs; asked about the sentences from the live signal on,
    # it hears the report. The scene alone stays chat.
    live = "昨晚那集电视剧里有人被捅了！楼下真有人被捅了，流了好多血"
    detection = classifier.detect(live)
    assert detection.urgent and {"110", "120"} <= set(detection.numbers)
    assert not classifier.detect("昨晚那集电视剧里有人被捅了，流了好多血，吓得我不敢看").flagged


def test_a_broken_urgency_file_is_one_line_naming_it(tmp_path) -> None:
    from nlp.urgency import UrgencyError

    path = tmp_path / "urgency.toml"
    path.write_text('[[signal]]\nname = "x"\nnumbers = ["999"]\nphrases = ["着火"]\n', encoding="utf-8")
    with pytest.raises(UrgencyError) as err:
        UrgencyJudge.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_odd_input_never_raises(classifier: Classifier) -> None:
    for text in ["", " ", "\x00\x07", "\ud800", "🔥" * 1000, "着火" * 50_000]:
        result = classifier.detect(text)
        assert not any(r.startswith("error:") for r in result.rules), (text[:10], result.rules)
    assert classifier.detect("着火了" * 50_000).urgent  # a long one is still read


def _verdict(report: float, urgent: float):
    from nlp.model import ModelVerdict

    return ModelVerdict(report, "security", 0.9, urgent, (0.0, 0.0, 0.9), (0, 10), "")


def test_the_models_urgency_head_keeps_a_signal_its_report_head_doubts(classifier: Classifier) -> None:
    # "刚才他在菜园里突然倒地，叫不醒了": a strong signal in a short message the
    # report head scores low. The policy's signal_keep lets the urgency head
    # overrule that doubt; without it the report head silences the signal.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.detection import NOT_FLAGGED
    from nlp.features import prepare

    text = "刚才他在菜园里突然倒地，叫不醒了"
    urgency = classifier.urgency.judge(prepare(text))
    assert urgency.strong
    doubted = Evidence(NOT_FLAGGED, urgency, _verdict(report=0.1, urgent=0.95), len(text))
    policy = replace(classifier.policy, signal_veto=0.3, signal_keep=0.5)
    kept = classifier.decide(doubted, policy)
    assert kept.urgent and kept.tier == "flagged" and "120" in kept.numbers
    assert not classifier.decide(doubted, replace(policy, signal_keep=1.01)).flagged
    # A joke the urgency head also doubts stays silenced.
    assert not classifier.decide(Evidence(NOT_FLAGGED, urgency, _verdict(report=0.1, urgent=0.05), len(text)), policy).flagged


@pytest.mark.parametrize("text", ["老公不呼吸了 求你们了", "奶奶停止呼吸了 求求你们谁来帮帮我"])
def test_breathing_stopped_is_beyond_the_models_veto(classifier: Classifier, text: str) -> None:
    # A short cry for help the model of b01-b151 doubted on both heads
    # (report 0.2, urgency 0.06) and so silenced, while the signal was only
    # `strong`. No figure of speech in the corpus says 不呼吸 / 停止呼吸.
    from nlp.classifier import Evidence
    from nlp.detection import NOT_FLAGGED

    urgency = classifier.urgency.judge(prepare(text))
    assert urgency.sure
    doubted = Evidence(NOT_FLAGGED, urgency, _verdict(report=0.1, urgent=0.05), len(text))
    kept = classifier.decide(doubted)
    assert kept.urgent and kept.tier == "flagged" and "120" in kept.numbers
    shipped = classifier.detect(text)
    assert shipped.urgent and "120" in shipped.numbers


def test_a_faint_urgency_head_asks_for_a_likely_report(classifier: Classifier) -> None:
    # The model's urgency head alone makes a report urgent at a low bar (a missed
    # life at risk is the worst error), but where it is faint (below urgent_sure)
    # the report head must be surer it is a report at all (unsure_report): most
    # such messages were chatter ("在路上了") that got a 110 reply.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.detection import NOT_FLAGGED

    policy = replace(classifier.policy, report=0.8, urgent=0.1, urgent_report=0.3, urgent_sure=0.2, unsure_report=0.5)

    def decide(report: float, urgent: float, p=policy):
        return classifier.decide(Evidence(NOT_FLAGGED, NO_URGENCY, _verdict(report, urgent), 20), p)

    assert not decide(report=0.4, urgent=0.15).flagged
    assert decide(report=0.4, urgent=0.15, p=replace(policy, urgent_sure=0.0)).urgent  # without the rule
    assert decide(report=0.6, urgent=0.15).urgent  # a likely report: the faint head still counts
    assert decide(report=0.4, urgent=0.3).urgent  # an urgency head past urgent_sure keeps the low bar
    assert decide(report=0.4, urgent=0.3).numbers == ("120",)  # the number head's choice


def test_an_alarmed_urgency_head_asks_little_of_the_report_head(classifier: Classifier) -> None:
    # "幼儿园午睡一个小朋友吐了以后呛到了，现在没反应": the urgency head hears a
    # life at risk (0.82), the report head doubts it is a report (0.29, below
    # urgent_report). An alarmed head (alarmed) asks only alarmed_report.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.detection import NOT_FLAGGED

    policy = replace(classifier.policy, urgent=0.03, urgent_report=0.3, urgent_sure=0.2, unsure_report=0.7, alarmed=0.6, alarmed_report=0.15)

    def decide(report: float, urgent: float, p=policy):
        return classifier.decide(Evidence(NOT_FLAGGED, NO_URGENCY, _verdict(report, urgent), 30), p)

    assert decide(report=0.29, urgent=0.82).urgent
    assert not decide(report=0.29, urgent=0.82, p=replace(policy, alarmed=1.01)).flagged  # without the rule
    assert not decide(report=0.29, urgent=0.5).flagged  # a head short of alarmed keeps the old bar
    assert not decide(report=0.1, urgent=0.95).flagged  # and some doubt is too much


def test_the_models_gate_keeps_a_window_only_an_alarmed_urgency_head_acts_on() -> None:
    # The model skips windows below the lowest report threshold unscored; an
    # alarmed urgency head lowers that floor for windows it hears (TextModel.past_gate).
    import math

    import numpy as np

    from nlp.model import HEADS, TextModel

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    def model(report: float, urgent: float, alarmed: float) -> TextModel:
        biases = np.zeros(len(HEADS), dtype=np.float32)
        biases[0], biases[HEADS.index("urgent")] = logit(report), logit(urgent)
        thresholds = {"report": 0.8, "urgent": 0.03, "urgent_report": 0.3, "urgent_sure": 0.2, "unsure_report": 0.7, "weak_signal": 0.6, "alarmed": alarmed, "alarmed_report": 0.15}
        return TextModel(["呛到"], np.zeros((1, len(HEADS)), dtype=np.float32), biases, {"thresholds": thresholds})

    assert model(0.2, 0.8, alarmed=0.6).past_gate("小朋友呛到了") is not None
    assert model(0.2, 0.8, alarmed=1.01).past_gate("小朋友呛到了") is None  # without the rule
    assert model(0.2, 0.5, alarmed=0.6).past_gate("小朋友呛到了") is None
    assert model(0.1, 0.9, alarmed=0.6).past_gate("小朋友呛到了") is None


def test_a_notice_like_opening_does_not_silence_a_life_at_risk(classifier: Classifier) -> None:
    # "各位业主" withdraws a lexicon verdict as a notice; a strong urgency signal
    # the model reads as urgent still flags it (withdrawn_urgent / withdrawn_keep),
    # while a reassurance (the danger is over) silences it.
    from dataclasses import replace

    text = "各位业主注意，我是物业小王，5栋二楼楼道里着火了，浓烟很大，大家赶紧下楼"
    result = classifier.detect(text)
    assert result.urgent and "119" in result.numbers, result.rules
    assert any(r.startswith("notice:") for r in result.rules)
    off = type(classifier)(classifier.lexicon, classifier.model, classifier.urgency,
                           replace(classifier.policy, withdrawn_urgent=1.01, withdrawn_keep=1.01))
    assert not off.detect(text).flagged
    assert not classifier.detect("昨天5栋楼道里着火了，浓烟很大，已经扑灭了，大家放心").urgent


def test_an_old_story_far_before_a_signal_does_not_cancel_it() -> None:
    # CONTEXT_REACH holds on both sides: "去年" cancels a signal told next to
    # it, not one told seventy characters later in the same rambling sentence.
    judge = UrgencyJudge.load()
    story = "去年那场火灾烧了三户人家，后来大家都装了灭火器，物业也经常来检查，消防通道也清理干净了，楼道里的杂物都搬走了，电动车也不准上楼充电了"
    assert len(story) > 60
    assert judge.judge(story + "，今天5栋又着火了").strong
    assert not judge.judge("去年5栋着火了").any


def test_a_negation_reaches_only_within_its_clause() -> None:
    # "不是，" answers a question; the bleeding after the comma is real. Within
    # the clause the negation still cancels ("没有人流血").
    from nlp.features import prepare

    judge = UrgencyJudge.load()
    answered = judge.judge(prepare("是不是摔了？不是，流血了，被人砍的"))
    assert answered.strong and not answered.cancelled
    assert not judge.judge(prepare("还好没有人流血")).any


def test_a_report_the_lexicon_confirmed_is_urgent_when_the_urgency_head_hears_a_life_at_risk(classifier: Classifier) -> None:
    # "打人了打人了快来菜场": the lexicon flags a fight, no urgency phrase fires,
    # and the report head doubts so short a cry (0.18) that it used to keep the
    # urgency head (0.85) from making it urgent. A negated danger still asks more.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.features import prepare

    text = "打人了打人了快来菜场"
    lexicon = classifier.lexicon.detect(text)
    urgency = classifier.urgency.judge(prepare(text))
    assert lexicon.flagged and not lexicon.urgent and not urgency.any
    policy = replace(classifier.policy, lexicon_veto=0.1, signal_keep=0.4, urgent_report=0.3, unsure_report=0.7)

    def decide(urgent: float):
        return classifier.decide(Evidence(lexicon, urgency, _verdict(0.18, urgent), len(text)), policy)

    assert decide(0.85).urgent and decide(0.85).numbers == ("120",)  # the number head's choice
    assert decide(0.3).flagged and not decide(0.3).urgent
    negated = replace(urgency, cancelled=("negation:没有→流血",))
    assert not classifier.decide(Evidence(lexicon, negated, _verdict(0.18, 0.6), len(text)), policy).urgent


# A call for help made or asked for, with the danger still there. The model read
# these as no report at all (report 0.00-0.29 on b01-b75) and vetoed the signal;
# none of them was flagged before `sure` signals.
CALLED_FOR_HELP = [
    ("叫了救护车了，我奶奶还是没醒", ("120",)),
    ("救护车在路上了，我爸还是没醒", ("120",)),
    ("我奶奶没醒，快叫救护车", ("120",)),
    ("快叫救护车，我老公没醒", ("120",)),
    ("报了火警，邻居在泼水，王伯还没出来", ("119",)),
]


@pytest.mark.parametrize(("text", "numbers"), CALLED_FOR_HELP)
def test_help_called_or_asked_for_while_the_danger_goes_on_is_urgent(classifier: Classifier, text: str, numbers) -> None:
    result = classifier.detect(text)
    assert result.urgent and result.tier == "flagged", result.rules
    assert set(numbers) <= set(result.numbers), (result.numbers, result.rules)


def test_the_model_may_not_veto_a_sure_signal_in_a_short_message(classifier: Classifier) -> None:
    # The same evidence with the signal not marked sure: the report head's doubt
    # silences it, as it did before `sure` signals existed.
    from dataclasses import replace

    from nlp.classifier import SURE_CHARS, Evidence
    from nlp.detection import NOT_FLAGGED

    text = "叫了救护车了，我奶奶还是没醒"
    urgency = classifier.urgency.judge(prepare(text))
    assert urgency.sure and urgency.numbers == ("120",)
    doubted = _verdict(report=0.01, urgent=0.02)
    policy = replace(classifier.policy, signal_veto=0.3, signal_keep=0.4)
    assert classifier.decide(Evidence(NOT_FLAGGED, urgency, doubted, len(text)), policy).urgent
    assert not classifier.decide(Evidence(NOT_FLAGGED, replace(urgency, sure=False), doubted, len(text)), policy).flagged
    # In a long story the model's doubt is heard again.
    assert not classifier.decide(Evidence(NOT_FLAGGED, urgency, doubted, SURE_CHARS + 1), policy).flagged


@pytest.mark.parametrize(
    "text",
    [
        "孩子还是没醒，昨晚熬夜打游戏了",  # asleep, no call for help
        "救护车来了，人拉走了，应该没事",  # the danger is over
        "叫了救护车的话要多少钱？我奶奶老说头晕",  # a question
        "上个月我爸在菜园里突然说不出话，邻居叫我们赶紧打120，送得及时，医生说是轻微脑梗，现在每天能下楼走两圈了，谢谢大家关心",  # an old story
    ],
)
def test_a_call_for_help_that_is_over_asked_about_or_told_of_is_not_urgent(classifier: Classifier, text: str) -> None:
    assert not classifier.detect(text).urgent


def test_small_talk_before_a_life_at_risk_does_not_let_the_model_veto_it(classifier: Classifier) -> None:
    # The model scores a window of the message; small talk before the report
    # fills it with chat n-grams, and the window read as no report (0.25) while
    # the sentence of the signal alone is heard. Without that sentence's own
    # verdict the fire is vetoed.
    from dataclasses import replace

    small_talk = "今天天气还可以，下午去菜市场买了点青菜和豆腐，回来路上碰到老同学聊了几句家常。"
    for report, numbers in (("北门那边浓烟滚滚，好像是着火了。", "119"), ("刚才三栋楼下有人拿刀砍人了！", "110")):
        text = small_talk * 3 + report
        result = classifier.detect(text)
        assert result.urgent and numbers in result.numbers, result.rules
        ev = classifier.evidence(text)
        assert ev.near is not None
        # The window's doubt as the model of b01-b90 had it (report 0.25):
        # the sentence's own verdict keeps the signal, and without it the
        # signal is vetoed.
        doubting = replace(ev, model=_verdict(report=0.25, urgent=0.09))
        assert classifier.decide(doubting).urgent
        assert not classifier.decide(replace(doubting, near=None)).urgent
    # A story told as one: the signal's own sentence is an old event, and stays so.
    assert not classifier.detect(small_talk * 3 + "去年北门那边着过一次火。").flagged
