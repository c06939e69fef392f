"""What is a convolution: the Keras notebook's two animations, made something a student does. A kernel steps
over a small grid (the toy 5×5 image, or a 7×7 piece of a test image or of the student's drawing), then a 2×2
max-pool; then one filter (classic, typed, or learned by a trained model) on a whole image."""
import streamlit as st

from fmnist_core.convolution import CROP_LEVELS, CROP_SIZE, TOY_IMAGE, TOY_SIZE, crop
from fmnist_core.specs import IMAGE_SIZE
from fmnist_ui import keys, state
from fmnist_ui.convolution_view import conv_stepper, effect_view, kernel_picker, pool_stepper, stepper_settings
from fmnist_ui.i18n import class_names, t

SOURCES = ("toy", "test", "drawing")
data = state.dataset()
names = class_names()
drawing = st.session_state.get(keys.UPLOAD_TENSOR)  # the student's picture or drawing, from Explore

st.header(t("page_convolution"))
st.markdown(t("conv_intro"))
kernel, kernel_name = kernel_picker("conv")

st.subheader(t("conv_step_title"))
source = st.radio(t("conv_source"), SOURCES, key="conv_source", horizontal=True,
                  format_func=lambda name: t(f"conv_source_{name}", size=TOY_SIZE if name == "toy" else CROP_SIZE))
if source == "drawing" and drawing is None:
    st.info(t("conv_no_drawing"))
    st.page_link("app_pages/explore.py", label=t("conv_go_draw"), icon=":material/draw:")
    source = "toy"
if source == "toy":
    grid = TOY_IMAGE
    st.caption(t("conv_toy_help"))
else:
    picture = drawing if source == "drawing" else None
    if picture is None:
        index = st.number_input(t("conv_test_image"), 0, len(data.test_images) - 1, 0, key="conv_test_image")
        picture = data.test_images[int(index)]
        st.caption(t("conv_test_image_is", index=int(index), label=names[int(data.test_labels[int(index)])]))
    top_column, left_column = st.columns(2)
    last = IMAGE_SIZE - CROP_SIZE  # the crop stays inside the image
    top = top_column.slider(t("conv_crop_top"), 0, last, last // 2, key="conv_crop_top")
    left = left_column.slider(t("conv_crop_left"), 0, last, last // 2, key="conv_crop_left")
    grid = crop(picture.float() / 255, top, left)
    st.caption(t("conv_crop_help", levels=CROP_LEVELS))
if kernel.shape[0] > grid.shape[0]:
    st.warning(t("conv_kernel_too_big", size=kernel.shape[0]))
    st.stop()
padding, stride = stepper_settings("conv")
output = conv_stepper(grid, kernel, padding, stride, key=f"conv_{source}_{padding}_{stride}")

st.subheader(t("conv_pool_title"))
st.markdown(t("conv_pool_intro"))
pool_stepper(output.clamp(min=0), key=f"pool_{source}_{padding}_{stride}")

st.subheader(t("effect_title"))
st.markdown(t("effect_intro"))
use_drawing = drawing is not None and st.toggle(t("effect_use_drawing"), key="effect_use_drawing")
if use_drawing:
    image = drawing
else:
    index = st.number_input(t("conv_test_image"), 0, len(data.test_images) - 1, 0, key="effect_test_image")
    image = data.test_images[int(index)]
effect_view(image, kernel, kernel_name)
st.page_link("app_pages/train.py", label=t("conv_go_train"), icon=":material/science:")
