"""Every text of the app, in English: the source of the gettext catalogues under locale/ (`make catalogs`).

TEXTS maps a key to its English text; PLURALS maps a key to its English singular and plural (the count is
`{count}`). Pages ask i18n.t(key) and i18n.count_of(key, n); each key is also the message's context in the
catalogues, so two keys with the same English text can be translated differently. A text's placeholders
(`{acc:.1%}`, `{count:,}`) are formatted in the reader's language by i18n."""

TEXTS: dict[str, str] = {
    # app shell
    "app_title": "Fashion-MNIST CNN explorer",
    "language": "Language",
    "choose": "Choose…",
    "page_train": "Build & train",
    "page_explore": "Explore feature maps",
    "page_compare": "Compare runs",
    "page_pair": "MLP vs CNN",
    "page_board": "Class board",
    "page_lesson": "Lesson",
    # the data set's ten classes (fmnist_core.data.CLASS_NAMES, in label order)
    "class_0": "T-shirt/top",
    "class_1": "Trouser",
    "class_2": "Pullover",
    "class_3": "Dress",
    "class_4": "Coat",
    "class_5": "Sandal",
    "class_6": "Shirt",
    "class_7": "Sneaker",
    "class_8": "Bag",
    "class_9": "Ankle boot",
    # the guided lesson (fmnist_ui/guide.py, app_pages/lesson.py)
    "guide_intro": "The notebook's lesson, step by step. Each step sets up the model for you, asks one question and, "
                   "once the result is there, says what to notice. Answer the question before you look!",
    "guide_progress": "Step {step} of {total}",
    "guide_question": "Question:",
    "guide_previous": "← {title}",
    "guide_next": "Next: {title} →",
    "guide_first": "This is the first step",
    "guide_last": "This is the last step",
    "guide_jump": "Go to step",
    "guide_open_explore": "Open these images in Explore (every filter, larger)",
    "guide_open_train": "Change this model yourself on Build & train",
    "guide_not_ready": "This step needs {count} run(s) that this server has not trained yet. Train them here (the "
                       "class shares the server: it may take a few minutes).",
    "guide_train": "Train what this step needs",
    "guide_run_queued": "{run}: waiting for a free worker…",
    "guide_run_started": "{run}: epoch {epoch} of {total} training…",
    "guide_run_training": "{run}: epoch {epoch} of {total}, {done:,} of {images:,} images",
    "guide_shared_time": "* trained while other jobs shared the server's CPU: its time is not a fair measure.",
    "guide_answer": "**#{index}** {true}: the model says **{predicted}** ({probability:.0%}) {verdict}",
    "guide_maps_alt": "Feature maps of {layer} for test image {index}: one small square per filter, bright where the "
                      "filter responds.",
    "guide_mlp_title": "A model without convolutions",
    "guide_mlp_what": "The notebook starts with a multilayer perceptron: it flattens each 28×28 image into 784 "
                      "numbers and feeds them to one dense layer of 128 neurons. It never sees which pixels are "
                      "neighbours.",
    "guide_mlp_question": "Out of 100 test images it has never seen, how many will it get right?",
    "guide_mlp_notice": "It gets {acc:.1%} of the test images right: about {wrong:.0f} in every 100 wrong. Keep that "
                        "number in mind.",
    "guide_cnn_title": "Add convolutions",
    "guide_cnn_what": "Now two conv layers of 32 filters each come first: small 3×3 filters slide over the image and "
                      "look for edges and shapes wherever they are. Same recipe, same seed, same data order as the "
                      "MLP.",
    "guide_cnn_question": "Will the CNN make fewer mistakes than the MLP? How many fewer?",
    "guide_cnn_notice": "The CNN reaches {cnn:.1%} against the MLP's {mlp:.1%}: {fewer:.0%} fewer mistakes. Filters "
                        "that look at neighbouring pixels make the difference.",
    "guide_maps_title": "What the filters see",
    "guide_maps_what": "Test images 0, 7 and 26, as in the notebook: under each, what every filter of each conv layer "
                       "produced (bright = strong response).",
    "guide_maps_question": "Images 7 and 26 are both shirts. Do the same filters light up for both? And for the boot?",
    "guide_maps_notice": "The model gets {right} of these {total} right. The second layer's maps are smaller and "
                         "more abstract: they combine the first layer's.",
    "guide_maps_shared": "In {layer}, filters {filters} are among the four strongest for both #{a} and #{b} "
                         "({label}): they respond to what the two have in common. The other image's strongest are "
                         "{others}.",
    "guide_maps_none_shared": "#{a} and #{b} are both {label}, yet no filter is among the four strongest for both: "
                              "the model tells them apart by different details.",
    "guide_shoes_title": "The shoes among images 23 to 28",
    "guide_shoes_what": "Six test images in a row; two are ankle boots. The model's answer and its confidence are "
                        "under each one.",
    "guide_shoes_question": "Which of these will the model get wrong, and which class will it confuse it with?",
    "guide_shoes_notice": "{right} of {total} right. Missed: {misses}. Explore's Mistakes view shows which classes "
                          "this model confuses most over all 10,000 test images.",
    "guide_shoes_miss": "#{index}, a {true}, taken for a {predicted} ({probability:.0%} sure)",
    "guide_shoes_all_right": "All {total} right, even the two ankle boots. Explore's Mistakes view shows which "
                             "classes this model does confuse over all 10,000 test images.",
    "guide_filters_title": "16, 32 or 64 filters",
    "guide_filters_what": "The notebook's first exercise: change 32 filters to 16 or 64 in both conv layers. "
                          "Everything else stays the same.",
    "guide_filters_question": "Do more filters always mean a better model? What do they cost?",
    "guide_filters_notice": "Best: {best} ({acc:.1%}). The three are {spread:.1f} points apart, while the parameters "
                            "and the seconds per epoch grow with every filter: more filters help less than they cost.",
    "guide_layers_title": "Remove or add a conv layer",
    "guide_layers_what": "The next exercises: remove the last conv layer (1 layer), then add one (3 layers), each of "
                         "32 filters. Each layer and its pooling shrink the maps: 28 → 13 → 5 → 1 pixel.",
    "guide_layers_question": "Which depth wins here, and why might a third layer not help?",
    "guide_layers_notice": "Best: {best} ({acc:.1%}); {spread:.1f} points separate the three. With three layers the "
                           "maps shrink to 1×1 before the dense layer: little is left to look at. “same” padding "
                           "keeps them larger (try it on Build & train).",
    "guide_overfitting_title": "Train longer: overfitting",
    "guide_overfitting_what": "The last exercise: train for 20 epochs with a constant learning rate and compare "
                              "training with validation. Training accuracy measures the images the model learns from; "
                              "validation, images it has never seen.",
    "guide_overfitting_question": "After which epoch does the validation loss (how wrong the model is on images it has "
                                  "never seen) stop falling?",
    "guide_overfitting_disagree": "Validation accuracy peaks later, at epoch {best_epoch} ({best:.1%}; "
                                  "{low_acc:.1%} at epoch {low_epoch}): both are marked on the chart. Accuracy only "
                                  "counts right answers; loss also counts how sure the model is. After epoch "
                                  "{low_epoch} it still gets about as many right, but it is more and more sure of its "
                                  "wrong answers, so the loss rises.",
    "guide_overfitting_notice": "Validation loss is lowest at epoch {low_epoch} ({low:.3f}) and rises to {final:.3f}, "
                                "while training accuracy keeps climbing to {train:.1%} (validation {val:.1%}): the "
                                "model memorises its training images. Early stopping would have ended after epoch "
                                "{stopped} and kept epoch {low_epoch}.",
    "dataset_missing": "The Fashion-MNIST data set could not be loaded.",
    "store_error": "The run store cannot be used right now",
    "store_error_unavailable": "The server's database does not answer right now (restarting?). Wait a few seconds "
                               "and click again: nothing was lost.",
    "store_error_locked": "The run store is busy (another program holds it). Try again in a moment: nothing was lost.",
    "store_error_disk_full": "The server's disk is full, so no result can be saved. Ask the teacher or the "
                             "administrator to free some space; training works again as soon as there is room.",
    "store_error_read_only": "The server cannot write its run store (read-only folder). Ask the administrator to give "
                             "the app a folder it can write (FMNIST_HOME).",
    "store_error_damaged": "The server's run store is damaged. Ask the administrator to move runs.sqlite3 away; the "
                           "app starts a new one.",
    "home_not_a_folder": "The app's data folder {path} is a file, not a folder. Ask the administrator to move it away "
                         "or to set FMNIST_HOME to a folder.",
    "home_read_only": "The app cannot write its data folder {path}. Ask the administrator to give it write access or "
                      "to set FMNIST_HOME to a folder it can write.",
    "home_disk_full": "The disk holding the app's data ({path}) is full. Ask the teacher or the administrator to free "
                      "some space; training works again as soon as there is room.",
    "home_empty": "The server's FMNIST_HOME setting is empty. Ask the administrator to unset it or name a folder.",
    "setting_error": "The server is set up wrongly, so this page cannot work. Ask the administrator:",
    "home_unusable": "The app's data folder {path} cannot be used. Ask the administrator to set FMNIST_HOME to a "
                     "folder the app can write.",
    # build & train
    "train_intro": "Choose an architecture and how to train it, press **Train**, and watch the accuracy grow epoch by "
                   "epoch.",
    "what_is_conv_title": "What is a convolution?",
    "what_is_conv": "A **filter** is a small grid of weights (for example 3×3). A **convolution** slides it over the "
                    "image and, at each position, multiplies and adds the pixels under it. The result is a **feature "
                    "map**: bright where the image looks like the filter (an edge, a corner, a stripe). The network "
                    "*learns* the filter weights. **Max pooling** keeps the largest value of each 2×2 block: the map "
                    "gets smaller and the network cares less about exact positions. More filters see more patterns "
                    "but cost more time.",
    "presets": "Start from a preset",
    "preset_seed-pytorch-mlp": "Notebook MLP (PyTorch)",
    "preset_seed-pytorch-cnn": "Notebook CNN (PyTorch)",
    "preset_seed-keras-mlp": "Notebook MLP (Keras)",
    "preset_seed-keras-cnn": "Notebook CNN (Keras)",
    "preset_fast-cnn": "Fast CNN (default)",
    "preset_fast-cnn-long": "Fast CNN, same padding, 5 epochs",
    "preset_overfitting": "Overfitting: 20 epochs, constant lr",
    "model_section": "Model",
    "training_section": "Training",
    "model_kind": "Model type",
    "padding": "Padding",
    "padding_valid": "none",
    "padding_same": "same",
    "padding_help": "none: each conv layer's map is smaller than its input (28 → 26 with a 3×3 filter). same: a "
                    "border of zeros around the input keeps the map as large as its input, so more conv layers fit "
                    "and the dense layer gets more numbers.",
    "epochs": "Epochs",
    "batch_size": "Batch size",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "seed": "Random seed",
    "shuffle": "Shuffle the training images each epoch",
    "advanced": "Advanced",
    "schedule": "Learning-rate schedule",
    "schedule_constant": "constant",
    "schedule_onecycle": "one-cycle (warm up, then decay)",
    "label_smoothing": "Label smoothing",
    "architecture": "Architecture",
    "col_layer": "Layer",
    # layer kinds (fmnist_core/models.py) and run labels (fmnist_ui/describe.py)
    "layer_conv": "Conv",
    "layer_pool": "Max pool",
    "layer_flatten": "Flatten",
    "layer_dense": "Dense",
    "layer_output": "Output",
    "label_lr": "lr {lr:g}",
    "label_batch": "batch {size}",
    "label_schedule_constant": "constant lr",
    "label_schedule_onecycle": "one-cycle lr",
    "label_smoothing_value": "smoothing {value:g}",
    "label_no_smoothing": "no smoothing",
    "label_shuffled": "shuffled",
    "label_unshuffled": "not shuffled",
    "label_seed": "seed {seed}",
    "col_output": "Output",
    "col_params": "Parameters",
    "total_params": "Total parameters: **{count:,}**",
    "invalid_spec": "This model cannot be built: {reason}",
    "link_error": "This link's model cannot be used: it is damaged or outside what this app can build. The default "
                  "model is shown instead.",
    "someone_elses_job": "Another student started this training: only they or the teacher can stop it.",
    "stop_watching": "Stop watching",
    "watch_again": "Watch again",
    "not_watching": "You stopped watching this training; it goes on for the student who started it.",
    "stopped_by_you": "You stopped it.",
    "stopped_by_teacher": "The teacher stopped it.",
    "stopped_by_other": "It was stopped from another browser.",
    "stopped_by_unknown": "",
    "train_button": "Train",
    "stop_button": "Stop",
    "retrain_button": "Train again",
    "status_cached": "Trained before: results come from the cache.",
    "status_queued": "Waiting in the queue: position {position}.",
    "status_waiting_cluster": "Waiting for a free worker in the cluster.",
    "trained_on_node": "Trained on the cluster's node {node} ({device}).",
    "cluster_fallback": "The class's training cluster cannot be reached: training runs on this server for now.",
    "status_running": "Training on {device}…",
    "status_epoch_images": "Training on {device}… epoch {epoch} of {total}: {done:,} of {images:,} images",
    "status_done": "Finished: {epochs} in {seconds} s on {device}.",
    "sgd_note": "This is the PyTorch notebook's MLP: plain SGD (no momentum) at a learning rate of 0.001 learns "
                "slowly, so it stays far below the others after 8 epochs. The optimizer holds it back, not the "
                "architecture: try Adam, or a learning rate of 0.1.",
    "best_val_metric": "Best validation accuracy",
    "points_vs_previous": "points against your previous run",
    "shared_cpu": "It shared the server's CPU with {count} other training run(s) while it trained: its time is longer "
                  "than on a quiet server, so compare times with care.",
    "status_failed": "Training failed: {error}",
    "status_cancelled": "Stopped after {epochs}.",
    "status_interrupted": "Interrupted after {epochs}: its training process stopped (a server restart, a killed "
                          "command or a cluster node that went away). Resume goes on from there.",
    "not_trained": "Not trained yet. Press **Train**.",
    "joined": "Someone is already training this model: you are watching the same job.",
    "progress": "Epoch {epoch}/{total} · {ips:,.0f} images/s · {seconds:.1f} s/epoch · {device}",
    "other_jobs": "Other jobs on this server",
    "go_explore": "Explore this model's feature maps",
    # charts
    "accuracy": "Accuracy",
    "loss": "Loss",
    "epoch": "Epoch",
    "train_acc": "training (running avg.)",
    "val_acc": "validation (test set)",
    "train_loss": "training loss",
    "val_loss": "validation loss",
    "best_epoch": "best validation accuracy",
    "lowest_loss_epoch": "lowest validation loss",
    "gap": "train − validation gap",
    "probability": "Probability",
    "probabilities_caption": "How sure the model is of each class",
    "col_class": "Class",
    # text alternatives (alt text), generated from the data
    "alt_test_image": "Test image #{index}: {label}",
    "alt_selected_image": "Test image #{index}, enlarged: {label}",
    "alt_picture": "Your picture as you gave it",
    "alt_picture_small": "Your picture as the model sees it: 28×28 pixels, light garment on black",
    "alt_feature_grid": "{name}: {filters} feature maps of {size}×{size}, brighter where the filter responds. "
                        "Strongest responses: {strongest}.",
    "alt_filter_peak": "filter #{filter} (peak at the {region})",
    "alt_kernels": "{name}: the weights of its {filters} filters, {size}×{size} each, red positive and blue negative",
    "alt_compare_map": "{layer}, filter #{filter}, for {image}: strongest at the {region}",
    "region_top-left": "top left",
    "region_top": "top",
    "region_top-right": "top right",
    "region_left": "left",
    "region_centre": "centre",
    "region_right": "right",
    "region_bottom-left": "bottom left",
    "region_bottom": "bottom",
    "region_bottom-right": "bottom right",
    # explore
    "explore_intro": "Pick a trained run and click a test image to see what every filter of every conv layer responds "
                     "to.",
    "what_is_map_title": "What is a feature map?",
    "what_is_map": "Each small square is one filter's output for the selected image, after ReLU (negatives set to 0). "
                   "Bright (yellow) means the filter found its pattern there; dark (purple) means it did not. The "
                   "first layer reacts to edges and light/dark areas; deeper layers combine them into shapes and get "
                   "smaller after each pooling. All squares of one layer share the same colour scale, so you can "
                   "compare filters.",
    "no_runs": "No trained model yet: train one on the **Build & train** page.",
    "no_cnn_runs": "This run is an MLP: it has no conv layers and so no feature maps. Pick a CNN run.",
    "run": "Trained run",
    "epoch_scrubber": "Weights after epoch",
    "class_filter": "Show only",
    "all_classes": "all classes",
    "gallery": "Test images",
    "gallery_hint": "Click one to see what each filter sees.",
    "gallery_page": "Images",
    "selected": "Test image #{index}",
    "true_label": "True class: **{label}**",
    "predicted": "Predicted: **{label}** ({probability:.0%})",
    "correct": "correct",
    "wrong": "wrong",
    "layer_caption": "{name} · {filters} filters · {size}×{size} each",
    "kernels_caption": "{name} filters (weights averaged over input channels; red +, blue −)",
    "show_kernels": "Show the filter weights",
    "tab_maps": "Feature maps",
    "tab_compare": "Compare images",
    "tab_errors": "Mistakes",
    "tab_looked": "Where it looked",
    "view": "View",
    "errors_intro": "Each cell counts test images of one true class (row) predicted as a class (column); the diagonal "
                    "is correct. Choose a true and a predicted class on the right to see those images, then click one "
                    "to see its feature maps.",
    "predicted_axis": "Predicted class",
    "true_axis": "True class",
    "cell_true": "True class",
    "cell_predicted": "Predicted as",
    "class_accuracy": "{label}: {accuracy:.1%}",
    "per_class": "Accuracy per class",
    "most_confused": "Most often confused: **{count}** test images of **{true}** predicted as **{predicted}**.",
    "curves_summary": "After epoch {epoch}: training accuracy {train:.1%}, validation accuracy {val:.1%}; the best "
                      "validation accuracy, {best:.1%}, came at epoch {best_epoch}.",
    "cell_images": "{count} test images of {true} predicted as {predicted}{more}:",
    "first_shown": " (first {shown} shown)",
    "compare_images": "Test images to compare (up to 3)",
    "filter_index": "Filter number",
    "compare_caption": "Filter #{filter} of every conv and pool layer, one row per image (as in the Keras notebook).",
    "checkpoint_error": "This checkpoint cannot be read ({error}). Train the run again.",
    "upload": "Try your own picture",
    "upload_help": "A photo or drawing of one garment (PNG, JPEG, WebP or GIF). It is turned into a 28×28 grayscale "
                   "image, bright garment on black, like the data set.",
    "your_picture": "Your picture",
    "draw_pad_label": "Drawing pad: draw a garment in white with the mouse or a finger",
    "as_model_sees": "What the model sees (28×28)",
    "unknown_label": "True class: unknown (your picture)",
    "upload_rejected": "This file cannot be used: {reason}. Pick another picture.",
    "upload_empty": "the file is empty",
    "upload_file_size": "the file is {megabytes:.1f} MB, at most {limit} MB",
    "upload_not_image": "it is not an image we can read (use PNG, JPEG, WebP or GIF)",
    "upload_format": "{format} images are not accepted (use PNG, JPEG, WebP or GIF)",
    "upload_too_large": "the image is {width}×{height} pixels; a picture like this may have at most {limit} megapixels",
    "upload_declared_too_large": "the image declares a size far beyond any photo",
    "upload_too_small": "the image is only {width}×{height} pixels, at least {side}×{side}",
    "upload_damaged": "the image file is damaged or cut short",
    "knockout_title": "Switch filters off",
    "knockout_help": "Pick filters to silence (their maps become zero) and watch the prediction change. The trained "
                     "model is not modified: clear the choice to bring them back.",
    "knockout_layer": "Filters off in {name}",
    "knockout_reset": "Switch all filters back on",
    "knockout_measure": "Measure test accuracy",
    "knockout_accuracy": "Test accuracy with these filters off: **{off:.2%}** (all filters on: {on:.2%})",
    "knockout_active": "{count} filter(s) switched off: the prediction and maps below use the modified model.",
    # compare
    "compare_intro": "Every run trained on this server. Select several to compare their curves.",
    "what_is_overfit_title": "What is overfitting?",
    "what_is_overfit": "Training accuracy measures the images the model learns from; validation accuracy measures "
                       "images it has never seen. When training accuracy keeps rising but validation stops improving "
                       "or falls, the model is **memorising** the training images instead of learning what makes a "
                       "shirt a shirt: that is overfitting. The shaded gap between the two curves shows it; the "
                       "marked epoch is where stopping would have been best.",
    "early_stop_line": "early stopping",
    "overfit_verdict": "{run}: best validation {best:.2%} at epoch {best_epoch}; final training {train:.2%} vs "
                       "validation {val:.2%} (gap {gap:+.1f} points).{stop}",
    "overfit_stop": " Early stopping on validation loss (patience 3) would have stopped after epoch {stopped} and "
                    "kept epoch {kept} ({kept_acc:.2%}).",
    "smoothing_note": "Label smoothing {value:g} is on: training loss is measured against softened targets, so it "
                      "stays above validation loss even when the model fits the training images better. Compare "
                      "accuracies, or use the Overfitting preset (no smoothing).",
    "col_run": "Run",
    "col_model": "Model",
    "col_epochs": "Epochs",
    "col_best_val": "Best val. acc.",
    "col_final_val": "Final val. acc.",
    "col_final_train": "Final train acc.",
    "col_sec_epoch": "s/epoch",
    "col_total": "Total s",
    "col_device": "Device",
    "col_status": "Status",
    "col_source": "Cached/live",
    "source_cached": "cached",
    "source_live": "live",
    "select_runs": "Runs to compare",
    "overlay_title": "Validation accuracy of the selected runs",
    "train_vs_val_title": "Training vs validation",
    "scatter_title": "Final validation accuracy vs training time",
    "training_seconds": "Training time (s)",
    "resume_button": "Resume from epoch {epoch}",
    "restart_button": "Restart from scratch",
    "lesson_locked": "Some settings are locked or hidden by your teacher for this lesson.",
    # teacher mode
    "teacher_title": "Teacher mode",
    "teacher_lock": "Lock for students",
    "teacher_hide": "Hide from students",
    "teacher_link": "Students' link to this view (locks included, without teacher mode):",
    "board_clear_confirm": "Take all {runs} runs off the class board? They stay trained and cached; only the board "
                           "starts empty.",
    "board_clear_yes": "Clear the board",
    "board_clear_no": "Keep it",
    "class_jobs": "The class's jobs",
    "class_jobs_none": "No job is running or waiting.",
    "class_job_running": "training, {epoch} of {total} epochs done",
    "class_job_queued": "waiting, number {position} in the queue",
    "lesson_code_live": "Students who join with this code get your locks and hidden controls at once, and your model "
                        "when you send it; they see your changes within seconds.",
    "lesson_code_show": "Show the code and QR on the projector",
    "lesson_code_how": "Scan the QR code, or open the app and type **{code}** under “Class code” in the sidebar.",
    "qr_alt": "QR code that opens {link}",
    "lesson_code_input": "Class code",
    "lesson_join": "Join the class",
    "lesson_code_example": "as on the projector, e.g. K7Q 4MX",
    "lesson_following": "You are in class **{name}** ({code}): your teacher's changes reach you here.",
    "lesson_code_invalid": "That is not a class code: a code is {length} letters or digits, as on the projector.",
    "lesson_code_unknown": "No class with the code “{code}” on this server. Check the code on the projector.",
    "lesson_code_wait": "Too many wrong codes from here: try again in {seconds} s.",
    "teacher_code_wrong": "That teacher code is not right. Use the teacher link the server printed when it started.",
    "teacher_code_wait": "Too many wrong teacher codes from here: the next one is looked at in {seconds} s.",
    "teacher_code_input": "Teacher code",
    "teacher_sign_in": "Open teacher mode",
    "link_source_network": "The link uses this computer's network address, since your browser opened the app as "
                           "“localhost”. If students cannot open it, set FMNIST_PUBLIC_URL on the server.",
    "link_source_loopback": "This computer has no network address: students' devices cannot open this link. Set "
                            "FMNIST_PUBLIC_URL on the server to the address they can reach.",
    "disk_use": "Disk used by runs and models: {used} GB of {quota} GB (the least recently used runs that no board "
                "shows make room when it is full).",
    "class_none_open": "No class is open. Create one for this group (its code is how students join), or open one made "
                       "earlier.",
    "class_name": "Name of a new class",
    "class_name_example": "e.g. 3ºB, Tuesday",
    "class_create": "Create the class",
    "class_name_invalid": "A class name has 1 to {limit} characters.",
    "class_open": "Or open a class",
    "class_open_button": "Open this class",
    "class_is": "Class **{name}** · code **{code}**",
    "class_send_model": "Send my current model to the class",
    "class_model_sent": "Sent: students following the code get it within seconds.",
    "class_running_cap": "Jobs of this class training at once",
    "class_running_cap_help": "This server trains {slots} job(s) at a time for all classes; a lower number here "
                              "leaves room for the other classes.",
    "class_leave": "Close this class (students stay in it)",
    "class_job_other_class": "started in another class",
    "imported_title": "Models brought in by file ({count})",
    "imported_delete": "Delete",
    "queue_full_student": "You already have {limit} runs waiting for the server, the most one student may have: this "
                          "one waits until one of yours starts. Press Train again then.",
    "queue_full_class": "Your class already has {limit} runs waiting for the server: try again when some have started.",
    "queue_full_server": "The server's queue is full ({limit} runs waiting): try again in a few minutes.",
    "quota_full_train": "The server's disk space for runs is full, and every run on it is on a class board or "
                        "training: ask your teacher to clear the board or delete imported models.",
    "status_evicted": "This run's files were removed to keep the server within its disk space. Train it again to get "
                      "it back (its curve below is what it reached).",
    "status_name_evicted": "removed to free disk",
    "model_error_disk_quota": "the server's disk space for models is full; ask your teacher to delete imported models "
                              "or clear the class board.",
    "board_intro_class": "Every model your class trained or opened since your teacher last cleared the board. "
                         "**Your** runs are the big stars. Which architectures reach the top with the fewest "
                         "parameters?",
    "control_presets": "Preset buttons",
    "control_model_kind": "Model type",
    "control_epochs": "Epochs",
    "control_batch_size": "Batch size",
    "control_optimizer": "Optimizer",
    "control_lr": "Learning rate",
    "control_advanced": "Advanced settings",
    # what a convolution is (app_pages/convolution.py, fmnist_ui/convolution_view.py; the lesson's first step)
    "page_convolution": "What is a convolution?",
    "conv_intro": "A convolution slides a small grid of numbers, the **kernel** (or filter), over an image. At each "
                  "position it multiplies the nine pixels under it by the kernel's nine numbers and adds the "
                  "products: that sum is one pixel of the output. A CNN learns its kernels' numbers while it trains.",
    "conv_kernel": "Kernel",
    "kernel_identity": "Identity (changes nothing)",
    "kernel_vertical_edges": "Vertical edges",
    "kernel_horizontal_edges": "Horizontal edges",
    "kernel_sharpen": "Sharpen",
    "kernel_blur": "Blur",
    "kernel_emboss": "Emboss",
    "kernel_custom": "Type your own nine numbers",
    "kernel_learned": "A filter a trained model learned",
    "conv_cell": "Row {row}, column {column}",
    "conv_no_learned": "No CNN has been trained on this server yet: here are vertical edges instead.",
    "conv_filter_number": "Filter of the first conv layer",
    "conv_closest": "Closest classic kernel: {kernel} (similarity {similarity:.0%}).",
    "conv_closest_opposite": "Closest classic kernel: the opposite of {kernel} (similarity {similarity:.0%}).",
    "conv_learned_name": "learned filter #{number}",
    "conv_previous": "Previous",
    "conv_next": "Next",
    "conv_play": "Play",
    "conv_pause": "Pause",
    "conv_position": "Kernel position",
    "conv_input_caption": "Input {rows}×{columns}, no padding (the window in yellow)",
    "conv_input_caption_padded": "Input {rows}×{columns} with a ring of {zeros} padded zero(s) in grey (the window "
                                 "in yellow)",
    "conv_kernel_caption": "Kernel {size}×{size}",
    "conv_products_caption": "The nine products",
    "conv_output_caption": "Output {rows}×{columns} (the pixel just written in green)",
    "conv_step_text": "Position {position} of {count}: the window's nine products add up to **{total}**, written to "
                      "row {row}, column {column} of the output.",
    "conv_stride": "Stride",
    "conv_step_title": "Step by step",
    "conv_source": "Pixels",
    "conv_source_toy": "The notebook's {size}×{size} image",
    "conv_source_test": "A {size}×{size} piece of a test image",
    "conv_source_drawing": "A {size}×{size} piece of your drawing",
    "conv_no_drawing": "Draw or upload a picture in Explore first; until then, the toy image.",
    "conv_go_draw": "Draw a garment in Explore",
    "conv_toy_help": "Ones and zeros, like the notebook's animation: a small T.",
    "conv_test_image": "Test image number",
    "conv_test_image_is": "Test image #{index}: {label}.",
    "conv_crop_top": "Piece's top row",
    "conv_crop_left": "Piece's left column",
    "conv_crop_help": "Pixels as whole numbers from 0 (black) to {levels} (white), so you can check the sums by hand.",
    "conv_kernel_too_big": "This kernel is {size}×{size}: larger than the piece of image. Choose a 3×3 kernel.",
    "conv_pool_title": "Then a 2×2 max-pool",
    "conv_pool_intro": "After the convolution, ReLU turns negative numbers into 0; then a 2×2 max-pool keeps the "
                       "largest number of each 2×2 window: the map gets four times smaller and keeps the strongest "
                       "responses.",
    "conv_pool_too_small": "The output is smaller than 2×2: nothing to pool.",
    "conv_pool_input_caption": "After ReLU, {rows}×{columns} (the window in yellow)",
    "conv_pool_output_caption": "Max-pooled, {rows}×{columns}",
    "conv_pool_step_text": "Window {position} of {count}: of {values} the largest, **{largest}**, goes on.",
    "effect_title": "What a filter does to a whole image",
    "effect_intro": "The same kernel over a full 28×28 image: bright where the image matches the kernel's pattern. "
                    "A CNN's first layer does this with each of its filters.",
    "effect_use_drawing": "Use my drawing",
    "effect_image": "Image {size}×{size}",
    "effect_image_alt": "The image the filter is applied to.",
    "effect_convolved": "Convolution {size}×{size}",
    "effect_relu": "After ReLU {size}×{size}",
    "effect_pooled": "After max-pool {size}×{size}",
    "effect_convolved_alt": "The image convolved with {kernel}: {size}×{size} pixels, bright where it matches.",
    "effect_relu_alt": "The convolution after ReLU ({kernel}): {size}×{size}, negatives set to zero.",
    "effect_pooled_alt": "After a 2×2 max-pool ({kernel}): {size}×{size}, the strongest responses kept.",
    "conv_go_train": "Now train a CNN that learns its own kernels",
    "guide_convolution_title": "What is a convolution?",
    "guide_convolution_what": "Before any model: a 3×3 kernel that finds vertical edges slides over the notebook's 5×5 "
                              "image. Step it with Next or Play and watch each output pixel being written.",
    "guide_convolution_question": "With padding none, how big is the output? And with same?",
    "guide_convolution_kernel": "Kernel: vertical edges (positive on the left, negative on the right).",
    "guide_convolution_notice": "The {size}×{size} image gives a {rows}×{columns} output here. The strongest response, "
                                "{value:g}, is at row {row}, column {column}: where the kernel's pattern and the "
                                "image's edge line up. Switch padding to see the other size.",
    "guide_open_convolution": "Try other kernels and images on What is a convolution?",
    "guide_looked_title": "Where did the model look?",
    "guide_looked_what": "Hide a small square of the image and see how much the model's answer drops: where it "
                         "drops most is where the model looked (occlusion). Grad-CAM asks the CNN's last conv layer "
                         "the same. The MLP, on the same image, for comparison.",
    "guide_looked_question": "Will the CNN and the MLP look at the same part of the boot?",
    "guide_looked_notice": "The CNN's heat is at the {cnn_region}, half of it on {cnn_area:.0%} of the image; the "
                           "MLP's is at the {mlp_region}, half of it on {mlp_area:.0%}.",
    "guide_open_looked": "Open this image in Explore (any class, any run)",
    # where the model looked (fmnist_ui/heatmap_view.py)
    "looked_intro": "Bright where the pixels mattered for the chosen class: hiding them (occlusion) or the last conv "
                    "layer's maps (Grad-CAM) change the answer most there.",
    "looked_class": "For the class",
    "looked_class_option": "{label} ({probability:.0%})",
    "looked_method": "Method",
    "looked_occlusion": "Occlusion",
    "looked_gradcam": "Grad-CAM",
    "looked_no_gradcam": "Grad-CAM needs conv layers: this model has none.",
    "looked_occlusion_help": "A grey {patch}×{patch} square is slid over the image; the brighter a pixel, the more "
                             "hiding it lowered the class's probability.",
    "looked_gradcam_help": "The last conv layer's maps, each weighted by how much the class's score depends on it.",
    "looked_compare": "Beside it, the same image for",
    "looked_compare_none": "no other run",
    "heat_alt": "Heat map of {model} for {label}: the heat is at the {region}; half of it covers {area:.0%} of the "
                "image.",
    "heat_caption": "Heat at the {region}; half of it on {area:.0%} of the image.",
    # class board
    "board_intro": "Every model trained or opened on this server by students in no class since the board was last "
                   "cleared. **Your** runs are the big stars. Which architectures reach the top with the fewest "
                   "parameters?",
    "board_clear": "Clear the board (runs stay cached)",
    "board_cleared": "Board cleared.",
    "board_empty": "No runs on the board yet: train a model on **Build & train**.",
    "board_axis": "Horizontal axis",
    "board_axis_params": "Parameters (log scale)",
    "board_axis_time": "Training time",
    "board_yours": "yours",
    "board_summary": "{runs} from {sessions} · yours: {mine} · best: {best:.2%} ({best_model})",
    # MLP vs CNN
    "pair_intro": "The notebooks start with a question: *how can we improve the MLP?* Here both models train with the "
                  "**same recipe, seed and order of images**, so the only difference is the convolutions.",
    "pair_recipe": "Shared recipe: {optimizer} · learning rate {lr:g} · batch {batch} · {epochs} epochs · seed {seed}",
    "pair_change": "Change the CNN or the recipe on Build & train",
    "pair_button": "Train both (or fetch them)",
    "pair_params": "{count:,} parameters",
    "pair_chart_title": "Validation accuracy per epoch: MLP vs CNN",
    "pair_not_trained": "not trained yet",
    "col_errors": "Wrong in 100 test images",
    # convolutions help. Same recipe, seed and data order for both, so the difference is the architecture's.
    "pair_verdict_cnn": "Same recipe, seed and data order: the CNN reaches {cnn:.2%}, the MLP {mlp:.2%}. The CNN gets "
                        "{cnn_errors:.1f} of every 100 test images wrong instead of {mlp_errors:.1f}: {fewer:.0%} "
                        "fewer mistakes, with {cnn_params:,} parameters against the MLP's {mlp_params:,}.",
    "pair_verdict_mlp": "Same recipe, seed and data order: this time the MLP ({mlp:.2%}) beats the CNN ({cnn:.2%}). "
                        "Try more epochs or the Fast CNN recipe: convolutions need a recipe that lets them learn.",
    "draw_title": "…or draw a garment",
    "draw_help": "Draw with the mouse or a finger; each stroke updates the prediction.",
    "draw_clear": "Clear",
    # take the model home
    "model_file_title": "Take this model home, or bring one back",
    "download_model": "Download this model (.pt)",
    "download_help": "One file with the architecture, the weights of the last saved epoch and the training curve. "
                     "Upload it here (or on another server running this app) to explore it again.",
    "upload_model": "Bring a model back (.pt file downloaded from this app)",
    "model_rejected": "This file cannot be used: {reason}",
    "model_error_file_size": "it is larger than any model this app builds.",
    "model_error_not_model": "it is not a model saved by this app (or it is damaged).",
    "model_error_mismatch": "its description and its weights do not fit together.",
    "model_error_values": "its weights contain invalid numbers (NaN or infinity).",
    "model_error_curve": "its training curve is damaged.",
    "model_verified": "Its weights score {measured:.2%} on the test set here, as the file claims ({claimed:.2%}).",
    "model_unverified": "The file claims {claimed:.2%}, but its weights score {measured:.2%} on the test set here. "
                        "Its curve is shown as claimed by the file; it never answers for this model and is not on the "
                        "class board.",
    "source_imported": "model file (verified)",
    "claimed_by_file": "claimed by the file",
    "measured_here": "measured here",
    "model_error_exists": "this server already has a run of this model (stopped, or brought in before); open it in "
                          "Explore, or resume it on Build & train.",
    "model_error_busy": "this model is training on this server right now; try again when it ends.",
    "model_added": "Model added: {summary}. It is selected above.",
    "model_here": "This model was already on this server: {summary}. It is selected above.",
    "status_name_queued": "queued",
    "status_name_running": "running",
    "status_name_done": "done",
    "status_name_failed": "failed",
    "status_name_cancelled": "cancelled",
    "status_name_interrupted": "interrupted",
}

PLURALS: dict[str, tuple[str, str]] = {
    "n_runs": ("{count:,} run", "{count:,} runs"),
    "n_browsers": ("{count:,} browser", "{count:,} browsers"),
    "n_epochs": ("{count} epoch", "{count} epochs"),
    "n_finished_epochs": ("{count} finished epoch", "{count} finished epochs"),
}
