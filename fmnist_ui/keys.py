"""Every session-state key the pages share, in one place: a name that is read in one file and written in another
is spelt once. Widget keys are here when more than one file touches them."""

SELECTED_IMAGE = "selected_image"  # the test image chosen in Explore (an index, or picture.UPLOAD)
EXPLORE_RUN = "explore_run"  # the run Explore shows (widget)
SPEC_LINK_APPLIED = "spec_link_applied"  # the opening link's (or lesson's) model was put into the widgets once
MODEL_UPLOAD_OUTCOME = "model_upload_outcome"  # what the last model-file upload came to, shown until the next
LESSON_CODE = "lesson_code"  # the code of the class this student follows
GALLERY_PAGE = "gallery_page"  # which 20 thumbnails the gallery shows (widget)
CONFIRM_CLEAR = "confirm_clear"  # the teacher pressed Clear the board: ask once more
UPLOAD_TENSOR = "upload_tensor"  # the uploaded or drawn picture as a 28×28 tensor
UPLOAD_ERROR = "upload_error"  # why the last picture was refused
UNWATCHED = "unwatched"  # runs this session stopped watching
TEACHER_SPEC = "teacher_spec"  # the last valid model of the teacher's widgets, what the lesson hands out
TEACHER_CLASS = "teacher_class"  # the code of the class this teacher has open
TEACHER_REFUSED = "teacher_refused"  # a wrong teacher code was given: until when the next one waits (monotonic)
MODEL_SENT = "model_sent"  # the teacher just sent their model to the class: say so once
CLASS_NAME_ERROR = "class_name_error"  # the class name typed could not be used: say so once
LESSON_NAME = "lesson_name"  # the name of the class this student follows
SUBMITTED = "submitted"  # run key → how this session's Train was answered (queued, joined, cached)
LESSON_MISSING = "lesson_missing"  # a typed or linked code that names no lesson, to say so once
BOARD_CLEARED = "board_cleared"  # the board was just cleared: say so once, after the rerun
GUIDE_STEP = "guide_step"  # the guided lesson's step (1-based)
EXPLORE_VIEW = "explore_view"  # maps, compare or mistakes (widget)
LESSON_VERSION = "lesson_version"  # the version of that lesson last applied
LESSON_SPEC = "lesson_spec"  # the lesson's model last applied
FOCUS_PREDICTION = "focus_prediction"  # after a gallery click: bring the prediction into view once
RESULTS_SEEN = "results_seen"  # (run key, best accuracy) of each result this session saw: the change is against these
RUN_LINK_APPLIED = "run_link_applied"  # the opening link's run and image were put into Explore once
OPENED_WITH = "opened_with"  # the query this session opened with (share.shared_value)
COMPARE_IMAGES = "compare_images"  # the images of Explore's compare view (widget)
UPLOAD_PICTURE = "upload_picture"  # the picture uploader (widget)
MODEL_UPLOAD = "model_upload"  # the model-file uploader (widget)
SUBMIT_REFUSED = "submit_refused"  # why the server did not queue this session's last Train (queue or disk full)
TOUCHED_RUN = "touched_run"  # the run Explore last marked as used (once per choice, not per rerun)
