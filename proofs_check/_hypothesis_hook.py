"""Entry point of hypothesis' `hypothesis` group: `st.from_type` for the toolkit's domain types.

Hypothesis calls `setup` when it is imported; the strategies are resolved lazily (deferred),
so this hook imports neither hypothesis' user-facing modules early nor proofs_check.strategies.
"""


def setup() -> None:
    """Register `Network` and `Instance` (of any registered lemma) with `st.from_type`."""
    from hypothesis import strategies as st

    from proofs_check.instances import Instance, Network
    from proofs_check.library import lemma_ids

    def strategies():
        from proofs_check import strategies

        return strategies

    st.register_type_strategy(Network, st.deferred(lambda: strategies().networks()))
    st.register_type_strategy(
        Instance, st.deferred(lambda: st.sampled_from(lemma_ids()).flatmap(strategies().instances))
    )
