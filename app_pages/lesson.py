"""Lesson: the notebooks' path step by step. Each step sets the model, asks one question, answers from the
precomputed grid where it can and says what to notice; progress is kept in the session and in the link."""
import streamlit as st

from fmnist_ui import keys
from fmnist_ui.guide import FAST, STEPS, go_to, show_step_results, step_number
from fmnist_ui.i18n import t
from fmnist_ui.share import shared_value

if keys.GUIDE_STEP not in st.session_state:
    go_to(step_number(shared_value("step")) or 1)
position = st.session_state[keys.GUIDE_STEP]
step = STEPS[position - 1]


def title(number: int) -> str:
    return t(f"guide_{STEPS[number - 1].name}_title")


st.header(t("page_lesson"))
st.markdown(t("guide_intro"))
st.progress(position / len(STEPS), text=t("guide_progress", step=position, total=len(STEPS)))
st.subheader(f"{position}. {title(position)}")
st.markdown(t(f"guide_{step.name}_what"))
st.info(f"**{t('guide_question')}** {t(f'guide_{step.name}_question')}", icon=":material/help:")
show_step_results(step)

if step.name == "looked":  # the same image in Explore's heat-map view, any class, any run
    st.session_state[keys.EXPLORE_RUN] = FAST.key
    st.session_state[keys.SELECTED_IMAGE] = step.images[0]
    st.session_state[keys.EXPLORE_VIEW] = "looked"
    st.page_link("app_pages/explore.py", label=t("guide_open_looked"), icon=":material/image_search:")
elif step.images:  # the same images, larger and with every filter, one click away
    st.session_state[keys.EXPLORE_RUN] = FAST.key
    if step.name == "maps":
        st.session_state[keys.COMPARE_IMAGES] = list(step.images)
    st.page_link("app_pages/explore.py", label=t("guide_open_explore"), icon=":material/image_search:")
elif step.runs:
    st.page_link("app_pages/train.py", label=t("guide_open_train"), icon=":material/tune:")

back, forward = st.container(key="wrap_guide_nav").columns(2)
back.button(t("guide_previous", title=title(position - 1)) if position > 1 else t("guide_first"),
            on_click=go_to, args=(position - 1,), disabled=position == 1, width="stretch", key="guide_previous")
forward.button(t("guide_next", title=title(position + 1)) if position < len(STEPS) else t("guide_last"),
               on_click=go_to, args=(position + 1,), disabled=position == len(STEPS), type="primary",
               width="stretch", key="guide_next")
st.selectbox(t("guide_jump"), range(1, len(STEPS) + 1), index=position - 1, key=f"guide_jump_{position}",
             format_func=lambda number: f"{number}. {title(number)}",
             on_change=lambda: go_to(st.session_state[f"guide_jump_{position}"]))
