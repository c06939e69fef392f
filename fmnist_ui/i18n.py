"""Every label, caption and message of the app in English and Spanish."""
from __future__ import annotations

import string

import streamlit as st

LANGUAGES = {"en": "English", "es": "Español"}

TEXT: dict[str, tuple[str, str]] = {
    # app shell
    "app_title": ("Fashion-MNIST CNN explorer", "Explorador de CNN con Fashion-MNIST"),
    "language": ("Language", "Idioma"),
    "choose": ("Choose…", "Elige…"),
    "page_train": ("Build & train", "Construir y entrenar"),
    "page_explore": ("Explore feature maps", "Explorar mapas de activación"),
    "page_compare": ("Compare runs", "Comparar entrenamientos"),
    "page_pair": ("MLP vs CNN", "MLP frente a CNN"),
    "page_board": ("Class board", "Tablero de la clase"),
    "page_lesson": ("Lesson", "Lección"),
    # the data set's ten classes (fmnist_core.data.CLASS_NAMES, in label order)
    "class_0": ("T-shirt/top", "Camiseta/top"),
    "class_1": ("Trouser", "Pantalón"),
    "class_2": ("Pullover", "Suéter"),
    "class_3": ("Dress", "Vestido"),
    "class_4": ("Coat", "Abrigo"),
    "class_5": ("Sandal", "Sandalia"),
    "class_6": ("Shirt", "Camisa"),
    "class_7": ("Sneaker", "Zapatilla"),
    "class_8": ("Bag", "Bolso"),
    "class_9": ("Ankle boot", "Botín"),
    # the guided lesson (fmnist_ui/guide.py, app_pages/lesson.py)
    "guide_intro": ("The notebook's lesson, step by step. Each step sets up the model for you, asks one question and, "
                    "once the result is there, says what to notice. Answer the question before you look!",
                    "La lección del cuaderno, paso a paso. Cada paso prepara el modelo, hace una pregunta y, cuando "
                    "el resultado está listo, dice en qué fijarse. ¡Responde antes de mirar!"),
    "guide_progress": ("Step {step} of {total}", "Paso {step} de {total}"),
    "guide_question": ("Question:", "Pregunta:"),
    "guide_previous": ("← {title}", "← {title}"),
    "guide_next": ("Next: {title} →", "Siguiente: {title} →"),
    "guide_first": ("This is the first step", "Este es el primer paso"),
    "guide_last": ("This is the last step", "Este es el último paso"),
    "guide_jump": ("Go to step", "Ir al paso"),
    "guide_open_explore": ("Open these images in Explore (every filter, larger)",
                           "Abrir estas imágenes en Explorar (todos los filtros, más grandes)"),
    "guide_open_train": ("Change this model yourself on Build & train", "Cambia este modelo tú en Construir y entrenar"),
    "guide_not_ready": ("This step needs {count} run(s) that this server has not trained yet. Train them here "
                        "(the class shares the server: it may take a few minutes).",
                        "Este paso necesita {count} entrenamiento(s) que este servidor aún no tiene. Entrénalos aquí "
                        "(la clase comparte el servidor: puede tardar unos minutos)."),
    "guide_train": ("Train what this step needs", "Entrenar lo que necesita este paso"),
    "guide_run_queued": ("{run}: waiting for a free worker…", "{run}: esperando un hueco…"),
    "guide_run_started": ("{run}: epoch {epoch} of {total} training…", "{run}: entrenando la época {epoch} de {total}…"),
    "guide_run_training": ("{run}: epoch {epoch} of {total}, {done:,} of {images:,} images",
                           "{run}: época {epoch} de {total}, {done:,} de {images:,} imágenes"),
    "guide_shared_time": ("* trained while other jobs shared the server's CPU: its time is not a fair measure.",
                          "* entrenado mientras otros trabajos compartían la CPU del servidor: su tiempo no es una "
                          "medida justa."),
    "guide_answer": ("**#{index}** {true}: the model says **{predicted}** ({probability:.0%}) {verdict}",
                     "**#{index}** {true}: el modelo dice **{predicted}** ({probability:.0%}) {verdict}"),
    "guide_maps_alt": ("Feature maps of {layer} for test image {index}: one small square per filter, bright where "
                       "the filter responds.",
                       "Mapas de activación de {layer} para la imagen de prueba {index}: un cuadrado por filtro, "
                       "claro donde el filtro responde."),
    "guide_mlp_title": ("A model without convolutions", "Un modelo sin convoluciones"),
    "guide_mlp_what": ("The notebook starts with a multilayer perceptron: it flattens each 28×28 image into 784 numbers "
                       "and feeds them to one dense layer of 128 neurons. It never sees which pixels are neighbours.",
                       "El cuaderno empieza con un perceptrón multicapa: aplana cada imagen de 28×28 en 784 números "
                       "y los pasa a una capa densa de 128 neuronas. Nunca sabe qué píxeles son vecinos."),
    "guide_mlp_question": ("Out of 100 test images it has never seen, how many will it get right?",
                           "De 100 imágenes de prueba que nunca ha visto, ¿cuántas acertará?"),
    "guide_mlp_notice": ("It gets {acc:.1%} of the test images right: about {wrong:.0f} in every 100 wrong. "
                         "Keep that number in mind.",
                         "Acierta el {acc:.1%} de las imágenes de prueba: falla unas {wrong:.0f} de cada 100. "
                         "Recuerda este número."),
    "guide_cnn_title": ("Add convolutions", "Añade convoluciones"),
    "guide_cnn_what": ("Now two conv layers of 32 filters each come first: small 3×3 filters slide over the image "
                       "and look for edges and shapes wherever they are. Same recipe, same seed, same data order as "
                       "the MLP.",
                       "Ahora van primero dos capas conv de 32 filtros: pequeños filtros de 3×3 recorren la imagen "
                       "y buscan bordes y formas estén donde estén. Misma receta, semilla y orden de datos que el MLP."),
    "guide_cnn_question": ("Will the CNN make fewer mistakes than the MLP? How many fewer?",
                           "¿Cometerá la CNN menos errores que el MLP? ¿Cuántos menos?"),
    "guide_cnn_notice": ("The CNN reaches {cnn:.1%} against the MLP's {mlp:.1%}: {fewer:.0f}% fewer mistakes. "
                         "Filters that look at neighbouring pixels make the difference.",
                         "La CNN llega a {cnn:.1%} frente al {mlp:.1%} del MLP: {fewer:.0f}% menos errores. "
                         "Los filtros que miran píxeles vecinos marcan la diferencia."),
    "guide_maps_title": ("What the filters see", "Qué ven los filtros"),
    "guide_maps_what": ("Test images 0, 7 and 26, as in the notebook: under each, what every filter of each conv "
                        "layer produced (bright = strong response).",
                        "Las imágenes de prueba 0, 7 y 26, como en el cuaderno: debajo de cada una, lo que produjo "
                        "cada filtro de cada capa conv (claro = respuesta fuerte)."),
    "guide_maps_question": ("Images 7 and 26 are both shirts. Do the same filters light up for both? And for the "
                            "boot?",
                            "Las imágenes 7 y 26 son camisas. ¿Se encienden los mismos filtros en las dos? ¿Y en la "
                            "bota?"),
    "guide_maps_notice": ("The model gets {right} of these {total} right. Filters that light up for both shirts "
                          "(same square in both grids) respond to shirt-like shapes; the boot lights up others. The "
                          "second layer's maps are smaller and more abstract: they combine the first layer's.",
                          "El modelo acierta {right} de {total}. Los filtros que se encienden en las dos camisas (el "
                          "mismo cuadrado en ambas rejillas) responden a formas de camisa; la bota enciende otros. Los "
                          "mapas de la segunda capa son más pequeños y abstractos: combinan los de la primera."),
    "guide_shoes_title": ("The shoes among images 23 to 28", "Los zapatos entre las imágenes 23 y 28"),
    "guide_shoes_what": ("Six test images in a row; two are ankle boots. The model's answer and its confidence are "
                         "under each one.",
                         "Seis imágenes de prueba seguidas; dos son botines. Debajo de cada una, la respuesta del "
                         "modelo y su confianza."),
    "guide_shoes_question": ("Which of these will the model get wrong, and which class will it confuse it with?",
                             "¿Cuáles fallará el modelo, y con qué clase las confundirá?"),
    "guide_shoes_notice": ("{right} of {total} right. Shoes are the easy classes (their outline is unlike any "
                           "garment); shirts, T-shirts, pullovers and coats are the ones that get mixed up. Explore's "
                           "Mistakes view shows which classes the model confuses most.",
                           "{right} de {total} bien. Los zapatos son las clases fáciles (su silueta no se parece a "
                           "ninguna prenda); camisas, camisetas, jerséis y abrigos son las que se confunden. La vista "
                           "Errores de Explorar muestra qué clases confunde más el modelo."),
    "guide_filters_title": ("16, 32 or 64 filters", "16, 32 o 64 filtros"),
    "guide_filters_what": ("The notebook's first exercise: change 32 filters to 16 or 64 in both conv layers. Everything "
                           "else stays the same.",
                           "El primer ejercicio del cuaderno: cambia los 32 filtros por 16 o 64 en las dos capas conv. "
                           "Todo lo demás sigue igual."),
    "guide_filters_question": ("Do more filters always mean a better model? What do they cost?",
                               "¿Más filtros siempre dan un modelo mejor? ¿Qué cuestan?"),
    "guide_filters_notice": ("Best: {best} ({acc:.1%}). The three are {spread:.1f} points apart, while the parameters "
                             "and the seconds per epoch grow with every filter: more filters help less than they cost.",
                             "El mejor: {best} ({acc:.1%}). Los tres están a {spread:.1f} puntos, mientras que los "
                             "parámetros y los segundos por época crecen con cada filtro: más filtros ayudan menos de "
                             "lo que cuestan."),
    "guide_layers_title": ("Remove or add a conv layer", "Quita o añade una capa conv"),
    "guide_layers_what": ("The next exercises: remove the last conv layer (1 layer), then add one (3 layers), each of "
                          "32 filters. Each layer and its pooling shrink the maps: 28 → 13 → 5 → 1 pixel.",
                          "Los siguientes ejercicios: quita la última capa conv (1 capa) y luego añade una (3 capas), "
                          "de 32 filtros cada una. Cada capa y su agrupación encogen los mapas: 28 → 13 → 5 → 1 píxel."),
    "guide_layers_question": ("Which depth wins here, and why might a third layer not help?",
                              "¿Qué profundidad gana aquí, y por qué una tercera capa podría no ayudar?"),
    "guide_layers_notice": ("Best: {best} ({acc:.1%}); {spread:.1f} points separate the three. With three layers the "
                            "maps shrink to 1×1 before the dense layer: little is left to look at. “same” padding "
                            "keeps them larger (try it on Build & train).",
                            "El mejor: {best} ({acc:.1%}); {spread:.1f} puntos separan a los tres. Con tres capas los "
                            "mapas se encogen a 1×1 antes de la capa densa: queda poco que mirar. El relleno «igual» "
                            "los mantiene más grandes (pruébalo en Construir y entrenar)."),
    "guide_overfitting_title": ("Train longer: overfitting", "Entrena más: sobreajuste"),
    "guide_overfitting_what": ("The last exercise: train for 20 epochs with a constant learning rate and compare "
                               "training with validation. Training accuracy measures the images the model learns from; "
                               "validation, images it has never seen.",
                               "El último ejercicio: entrena 20 épocas con una tasa de aprendizaje constante y compara "
                               "entrenamiento con validación. La precisión de entrenamiento mide las imágenes con las "
                               "que aprende el modelo; la de validación, imágenes que nunca ha visto."),
    "guide_overfitting_question": ("After which epoch does the model stop getting better on images it has never "
                                   "seen?",
                                   "¿Después de qué época deja el modelo de mejorar con imágenes que nunca ha visto?"),
    "guide_overfitting_notice": ("Validation loss is lowest at epoch {low_epoch} ({low:.3f}) and rises to {final:.3f}, "
                                 "while training accuracy keeps climbing to {train:.1%} (validation {val:.1%}): the "
                                 "model memorises its training images. Early stopping would have ended after epoch "
                                 "{stopped} and kept epoch {low_epoch}.",
                                 "La pérdida de validación es mínima en la época {low_epoch} ({low:.3f}) y sube hasta "
                                 "{final:.3f}, mientras la precisión de entrenamiento sigue subiendo hasta {train:.1%} "
                                 "(validación {val:.1%}): el modelo memoriza sus imágenes de entrenamiento. La parada "
                                 "temprana habría terminado tras la época {stopped} y conservado la época {low_epoch}."),
    "dataset_missing": ("The Fashion-MNIST data set could not be loaded.", "No se pudo cargar el conjunto Fashion-MNIST."),
    "store_error": ("The run store cannot be used right now", "El registro de entrenamientos no está disponible ahora"),
    "store_error_locked": ("The run store is busy (another program holds it). Try again in a moment: nothing was lost.",
                           "El registro de entrenamientos está ocupado (otro programa lo usa). Inténtalo de nuevo en "
                           "un momento: no se perdió nada."),
    "store_error_disk_full": ("The server's disk is full, so no result can be saved. Ask the teacher or the "
                              "administrator to free some space; training works again as soon as there is room.",
                              "El disco del servidor está lleno y no se puede guardar ningún resultado. Pide al "
                              "profesor o al administrador que libere espacio; el entrenamiento vuelve a funcionar en "
                              "cuanto haya sitio."),
    "store_error_read_only": ("The server cannot write its run store (read-only folder). Ask the administrator to "
                              "give the app a folder it can write (FMNIST_HOME).",
                              "El servidor no puede escribir su registro de entrenamientos (carpeta de solo lectura). "
                              "Pide al administrador una carpeta con permiso de escritura (FMNIST_HOME)."),
    "store_error_damaged": ("The server's run store is damaged. Ask the administrator to move runs.sqlite3 away; "
                            "the app starts a new one.",
                            "El registro de entrenamientos del servidor está dañado. Pide al administrador que aparte "
                            "runs.sqlite3; la aplicación empezará uno nuevo."),
    "home_not_a_folder": ("The app's data folder {path} is a file, not a folder. Ask the administrator to move it "
                          "away or to set FMNIST_HOME to a folder.",
                          "La carpeta de datos de la aplicación {path} es un archivo, no una carpeta. Pide al "
                          "administrador que lo aparte o que apunte FMNIST_HOME a una carpeta."),
    "home_read_only": ("The app cannot write its data folder {path}. Ask the administrator to give it write access "
                       "or to set FMNIST_HOME to a folder it can write.",
                       "La aplicación no puede escribir en su carpeta de datos {path}. Pide al administrador permiso "
                       "de escritura o que apunte FMNIST_HOME a una carpeta con permiso."),
    "home_disk_full": ("The disk holding the app's data ({path}) is full. Ask the teacher or the administrator to "
                       "free some space; training works again as soon as there is room.",
                       "El disco con los datos de la aplicación ({path}) está lleno. Pide al profesor o al "
                       "administrador que libere espacio; el entrenamiento vuelve a funcionar en cuanto haya sitio."),
    "home_empty": ("The server's FMNIST_HOME setting is empty. Ask the administrator to unset it or name a folder.",
                   "El ajuste FMNIST_HOME del servidor está vacío. Pide al administrador que lo quite o indique una "
                   "carpeta."),
    "setting_error": ("The server is set up wrongly, so this page cannot work. Ask the administrator:",
                      "El servidor está mal configurado y esta página no puede funcionar. Pide al administrador:"),
    "home_unusable": ("The app's data folder {path} cannot be used. Ask the administrator to set FMNIST_HOME to a "
                      "folder the app can write.",
                      "La carpeta de datos de la aplicación {path} no se puede usar. Pide al administrador que apunte "
                      "FMNIST_HOME a una carpeta con permiso de escritura."),
    # build & train
    "train_intro": (
        "Choose an architecture and how to train it, press **Train**, and watch the accuracy grow epoch by epoch.",
        "Elige una arquitectura y cómo entrenarla, pulsa **Entrenar** y mira cómo crece la precisión época a época.",
    ),
    "what_is_conv_title": ("What is a convolution?", "¿Qué es una convolución?"),
    "what_is_conv": (
        "A **filter** is a small grid of weights (for example 3×3). A **convolution** slides it over the image and, "
        "at each position, multiplies and adds the pixels under it. The result is a **feature map**: bright where "
        "the image looks like the filter (an edge, a corner, a stripe). The network *learns* the filter weights. "
        "**Max pooling** keeps the largest value of each 2×2 block: the map gets smaller and the network cares "
        "less about exact positions. More filters see more patterns but cost more time.",
        "Un **filtro** es una pequeña cuadrícula de pesos (por ejemplo 3×3). Una **convolución** lo desliza sobre "
        "la imagen y, en cada posición, multiplica y suma los píxeles que tiene debajo. El resultado es un **mapa "
        "de activación**: brillante donde la imagen se parece al filtro (un borde, una esquina, una raya). La red "
        "*aprende* los pesos de los filtros. El **max pooling** se queda con el mayor valor de cada bloque 2×2: el "
        "mapa se reduce y a la red le importa menos la posición exacta. Más filtros ven más patrones pero cuestan "
        "más tiempo.",
    ),
    "presets": ("Start from a preset", "Empezar desde un modelo predefinido"),
    "preset_seed-pytorch-mlp": ("Notebook MLP (PyTorch)", "MLP del cuaderno (PyTorch)"),
    "preset_seed-pytorch-cnn": ("Notebook CNN (PyTorch)", "CNN del cuaderno (PyTorch)"),
    "preset_seed-keras-mlp": ("Notebook MLP (Keras)", "MLP del cuaderno (Keras)"),
    "preset_seed-keras-cnn": ("Notebook CNN (Keras)", "CNN del cuaderno (Keras)"),
    "preset_fast-cnn": ("Fast CNN (default)", "CNN rápida (por defecto)"),
    "preset_fast-cnn-long": ("Fast CNN, same padding, 5 epochs", "CNN rápida, relleno igual, 5 épocas"),
    "preset_overfitting": ("Overfitting: 20 epochs, constant lr", "Sobreajuste: 20 épocas, tasa constante"),
    "model_section": ("Model", "Modelo"),
    "training_section": ("Training", "Entrenamiento"),
    "model_kind": ("Model type", "Tipo de modelo"),
    "kind_cnn": ("CNN (convolutional)", "CNN (convolucional)"),
    "kind_mlp": ("MLP (dense only)", "MLP (solo capas densas)"),
    "conv_layers": ("Number of conv layers", "Número de capas convolucionales"),
    "filters_layer": ("Filters in conv layer {index}", "Filtros en la capa conv {index}"),
    "kernel_size": ("Kernel size", "Tamaño del filtro"),
    "padding": ("Padding", "Relleno (padding)"),
    "padding_valid": ("none", "ninguno"),
    "padding_same": ("same", "igual"),
    "padding_help": ("none: each conv layer's map is smaller than its input (28 → 26 with a 3×3 filter). "
                     "same: a border of zeros around the input keeps the map as large as its input, so more conv "
                     "layers fit and the dense layer gets more numbers.",
                     "ninguno: el mapa de cada capa conv es más pequeño que su entrada (28 → 26 con un filtro 3×3). "
                     "igual: un borde de ceros alrededor de la entrada mantiene el mapa tan grande como su entrada: "
                     "caben más capas conv y la capa densa recibe más números."),
    "dense_width": ("Dense layer width", "Neuronas de la capa densa"),
    "hidden_layers": ("Number of hidden layers", "Número de capas ocultas"),
    "hidden_width": ("Neurons in hidden layer {index}", "Neuronas en la capa oculta {index}"),
    "epochs": ("Epochs", "Épocas"),
    "batch_size": ("Batch size", "Tamaño de lote"),
    "optimizer": ("Optimizer", "Optimizador"),
    "learning_rate": ("Learning rate", "Tasa de aprendizaje"),
    "seed": ("Random seed", "Semilla aleatoria"),
    "shuffle": ("Shuffle the training images each epoch", "Barajar las imágenes en cada época"),
    "advanced": ("Advanced", "Avanzado"),
    "schedule": ("Learning-rate schedule", "Programa de la tasa de aprendizaje"),
    "schedule_constant": ("constant", "constante"),
    "schedule_onecycle": ("one-cycle (warm up, then decay)", "un ciclo (sube y luego baja)"),
    "label_smoothing": ("Label smoothing", "Suavizado de etiquetas"),
    "architecture": ("Architecture", "Arquitectura"),
    "col_layer": ("Layer", "Capa"),
    # layer kinds (fmnist_core/models.py) and run labels (fmnist_ui/describe.py)
    "layer_conv": ("Conv", "Conv"),
    "layer_pool": ("Max pool", "Agrupación máx."),
    "layer_flatten": ("Flatten", "Aplanar"),
    "layer_dense": ("Dense", "Densa"),
    "layer_output": ("Output", "Salida"),
    "label_cnn": ("CNN {widths} filters", "CNN {widths} filtros"),
    "label_mlp": ("MLP {widths} neurons", "MLP {widths} neuronas"),
    "label_same": ("same padding", "relleno igual"),
    "label_dense": ("dense {width}", "densa {width}"),
    "label_lr": ("lr {lr:g}", "tasa {lr:g}"),
    "label_batch": ("batch {size}", "lote {size}"),
    "label_schedule_constant": ("constant lr", "tasa constante"),
    "label_schedule_onecycle": ("one-cycle lr", "tasa en un ciclo"),
    "label_smoothing_value": ("smoothing {value:g}", "suavizado {value:g}"),
    "label_no_smoothing": ("no smoothing", "sin suavizado"),
    "label_shuffled": ("shuffled", "barajado"),
    "label_unshuffled": ("not shuffled", "sin barajar"),
    "label_seed": ("seed {seed}", "semilla {seed}"),
    "col_output": ("Output", "Salida"),
    "col_params": ("Parameters", "Parámetros"),
    "total_params": ("Total parameters: **{count:,}**", "Parámetros totales: **{count:,}**"),
    "invalid_spec": ("This model cannot be built: {reason}", "Este modelo no se puede construir: {reason}"),
    "link_error": ("This link's model cannot be used: it is damaged or outside what this app can build. "
                   "The default model is shown instead.",
                   "El modelo de este enlace no se puede usar: está dañado o fuera de lo que esta aplicación puede "
                   "construir. Se muestra el modelo por defecto."),
    "someone_elses_job": ("Another student started this training: only they or the teacher can stop it.",
                          "Otro estudiante empezó este entrenamiento: solo esa persona o el profesor pueden "
                          "detenerlo."),
    "stop_watching": ("Stop watching", "Dejar de mirar"),
    "watch_again": ("Watch again", "Volver a mirar"),
    "not_watching": ("You stopped watching this training; it goes on for the student who started it.",
                     "Has dejado de mirar este entrenamiento; sigue para quien lo empezó."),
    "stopped_by_you": ("You stopped it.", "Lo detuviste tú."),
    "stopped_by_teacher": ("The teacher stopped it.", "Lo detuvo el profesor."),
    "stopped_by_other": ("It was stopped from another browser.", "Se detuvo desde otro navegador."),
    "stopped_by_unknown": ("", ""),
    "train_button": ("Train", "Entrenar"),
    "stop_button": ("Stop", "Detener"),
    "retrain_button": ("Train again", "Entrenar de nuevo"),
    "status_cached": ("Trained before: results come from the cache.", "Ya entrenado: los resultados vienen de la caché."),
    "status_queued": ("Waiting in the queue: position {position}.", "Esperando en la cola: posición {position}."),
    "status_waiting_cluster": ("Waiting for a free worker in the cluster.",
                               "Esperando a que quede libre un trabajador del clúster."),
    "trained_on_node": ("Trained on the cluster's node {node} ({device}).",
                        "Entrenado en el nodo {node} del clúster ({device})."),
    "cluster_fallback": ("The class's training cluster cannot be reached: training runs on this server for now.",
                         "No se puede llegar al clúster de entrenamiento de la clase: por ahora se entrena en este "
                         "servidor."),
    "status_running": ("Training on {device}…", "Entrenando en {device}…"),
    "status_epoch_images": ("Training on {device}… epoch {epoch} of {total}: {done:,} of {images:,} images",
                            "Entrenando en {device}… época {epoch} de {total}: {done:,} de {images:,} imágenes"),
    "status_done": ("Finished: {epochs} in {seconds} s on {device}.", "Terminado: {epochs} en {seconds} s en {device}."),
    "epochs_one": ("{count} epoch", "{count} época"), "epochs_other": ("{count} epochs", "{count} épocas"),
    "finished_epochs_one": ("{count} finished epoch", "{count} época completa"),
    "finished_epochs_other": ("{count} finished epochs", "{count} épocas completas"),
    "sgd_note": ("This is the PyTorch notebook's MLP: plain SGD (no momentum) at a learning rate of 0.001 learns "
                 "slowly, so it stays far below the others after 8 epochs. The optimizer holds it back, not the "
                 "architecture: try Adam, or a learning rate of 0.1.",
                 "Es el MLP del cuaderno de PyTorch: SGD sin momento con una tasa de aprendizaje de 0,001 aprende "
                 "despacio y se queda muy por debajo de los demás tras 8 épocas. Lo frena el optimizador, no la "
                 "arquitectura: prueba Adam o una tasa de 0,1."),
    "best_val_metric": ("Best validation accuracy", "Mejor precisión de validación"),
    "points_vs_previous": ("points against your previous run", "puntos frente a tu entrenamiento anterior"),
    "shared_cpu": ("It shared the server's CPU with {count} other training run(s) while it trained: its time is "
                   "longer than on a quiet server, so compare times with care.",
                   "Compartió la CPU del servidor con otros {count} entrenamiento(s) mientras entrenaba: su tiempo es "
                   "más largo que en un servidor tranquilo; compara los tiempos con cuidado."),
    "status_failed": ("Training failed: {error}", "El entrenamiento falló: {error}"),
    "status_cancelled": ("Stopped after {epochs}.", "Detenido tras {epochs}."),
    "status_interrupted": ("Interrupted after {epochs}: its training process stopped (a server restart, a killed "
                           "command or a cluster node that went away). Resume goes on from there.",
                           "Interrumpido tras {epochs}: su proceso de entrenamiento se detuvo (un reinicio del "
                           "servidor, un comando detenido o un nodo del clúster que desapareció). Reanudar sigue desde "
                           "ahí."),
    "not_trained": ("Not trained yet. Press **Train**.", "Aún sin entrenar. Pulsa **Entrenar**."),
    "joined": ("Someone is already training this model: you are watching the same job.",
               "Alguien ya está entrenando este modelo: estás viendo el mismo trabajo."),
    "progress": ("Epoch {epoch}/{total} · {ips:,.0f} images/s · {seconds:.1f} s/epoch · {device}",
                 "Época {epoch}/{total} · {ips:,.0f} imágenes/s · {seconds:.1f} s/época · {device}"),
    "other_jobs": ("Other jobs on this server", "Otros trabajos en este servidor"),
    "go_explore": ("Explore this model's feature maps", "Explorar los mapas de este modelo"),
    # charts
    "accuracy": ("Accuracy", "Precisión"),
    "loss": ("Loss", "Pérdida"),
    "epoch": ("Epoch", "Época"),
    "train_acc": ("training (running avg.)", "entrenamiento (media durante la época)"),
    "val_acc": ("validation (test set)", "validación (conjunto de prueba)"),
    "train_loss": ("training loss", "pérdida de entrenamiento"),
    "val_loss": ("validation loss", "pérdida de validación"),
    "best_epoch": ("best validation", "mejor validación"),
    "gap": ("train − validation gap", "diferencia entrenamiento − validación"),
    "probability": ("Probability", "Probabilidad"),
    "probabilities_caption": ("How sure the model is of each class", "Seguridad del modelo para cada clase"),
    "col_class": ("Class", "Clase"),
    # text alternatives (alt text), generated from the data
    "alt_test_image": ("Test image #{index}: {label}", "Imagen de prueba n.º {index}: {label}"),
    "alt_selected_image": ("Test image #{index}, enlarged: {label}", "Imagen de prueba n.º {index}, ampliada: {label}"),
    "alt_picture": ("Your picture as you gave it", "Tu foto tal como la diste"),
    "alt_picture_small": ("Your picture as the model sees it: 28×28 pixels, light garment on black",
                          "Tu foto como la ve el modelo: 28×28 píxeles, prenda clara sobre negro"),
    "alt_feature_grid": ("{name}: {filters} feature maps of {size}×{size}, brighter where the filter responds. "
                         "Strongest responses: {strongest}.",
                         "{name}: {filters} mapas de activación de {size}×{size}, más brillantes donde responde el "
                         "filtro. Respuestas más fuertes: {strongest}."),
    "alt_filter_peak": ("filter #{filter} (peak at the {region})", "filtro n.º {filter} (máximo en {region})"),
    "alt_kernels": ("{name}: the weights of its {filters} filters, {size}×{size} each, red positive and blue negative",
                    "{name}: los pesos de sus {filters} filtros, de {size}×{size} cada uno, rojo positivo y azul "
                    "negativo"),
    "alt_compare_map": ("{layer}, filter #{filter}, for {image}: strongest at the {region}",
                        "{layer}, filtro n.º {filter}, para {image}: máximo en {region}"),
    "region_top-left": ("top left", "arriba a la izquierda"), "region_top": ("top", "arriba"),
    "region_top-right": ("top right", "arriba a la derecha"), "region_left": ("left", "izquierda"),
    "region_centre": ("centre", "centro"), "region_right": ("right", "derecha"),
    "region_bottom-left": ("bottom left", "abajo a la izquierda"), "region_bottom": ("bottom", "abajo"),
    "region_bottom-right": ("bottom right", "abajo a la derecha"),
    # explore
    "explore_intro": (
        "Pick a trained run and click a test image to see what every filter of every conv layer responds to.",
        "Elige un modelo entrenado y haz clic en una imagen de prueba para ver a qué responde cada filtro.",
    ),
    "what_is_map_title": ("What is a feature map?", "¿Qué es un mapa de activación?"),
    "what_is_map": (
        "Each small square is one filter's output for the selected image, after ReLU (negatives set to 0). Bright "
        "(yellow) means the filter found its pattern there; dark (purple) means it did not. The first layer reacts "
        "to edges and light/dark areas; deeper layers combine them into shapes and get smaller after each pooling. "
        "All squares of one layer share the same colour scale, so you can compare filters.",
        "Cada cuadrado es la salida de un filtro para la imagen elegida, tras ReLU (los negativos pasan a 0). "
        "Brillante (amarillo) significa que el filtro encontró su patrón ahí; oscuro (morado), que no. La primera "
        "capa reacciona a bordes y zonas claras u oscuras; las capas profundas los combinan en formas y se hacen "
        "más pequeñas tras cada pooling. Todos los cuadrados de una capa comparten la escala de color, así que se "
        "pueden comparar.",
    ),
    "no_runs": ("No trained model yet: train one on the **Build & train** page.",
                "Aún no hay modelos entrenados: entrena uno en la página **Construir y entrenar**."),
    "no_cnn_runs": ("This run is an MLP: it has no conv layers and so no feature maps. Pick a CNN run.",
                    "Este modelo es un MLP: no tiene capas convolucionales ni mapas de activación. Elige una CNN."),
    "run": ("Trained run", "Modelo entrenado"),
    "epoch_scrubber": ("Weights after epoch", "Pesos tras la época"),
    "class_filter": ("Show only", "Mostrar solo"),
    "all_classes": ("all classes", "todas las clases"),
    "gallery": ("Test images", "Imágenes de prueba"),
    "gallery_hint": ("Click one to see what each filter sees.", "Haz clic en una para ver qué ve cada filtro."),
    "gallery_page": ("Images", "Imágenes"),
    "selected": ("Test image #{index}", "Imagen n.º {index}"),
    "true_label": ("True class: **{label}**", "Clase real: **{label}**"),
    "predicted": ("Predicted: **{label}** ({probability:.0%})", "Predicción: **{label}** ({probability:.0%})"),
    "correct": ("correct", "acierto"),
    "wrong": ("wrong", "error"),
    "layer_caption": ("{name} · {filters} filters · {size}×{size} each", "{name} · {filters} filtros · {size}×{size} cada uno"),
    "kernels_caption": ("{name} filters (weights averaged over input channels; red +, blue −)",
                        "Filtros de {name} (pesos promediados sobre los canales de entrada; rojo +, azul −)"),
    "show_kernels": ("Show the filter weights", "Mostrar los pesos de los filtros"),
    "tab_maps": ("Feature maps", "Mapas de activación"),
    "tab_compare": ("Compare images", "Comparar imágenes"),
    "tab_errors": ("Mistakes", "Errores"),
    "view": ("View", "Vista"),
    "errors_intro": (
        "Each cell counts test images of one true class (row) predicted as a class (column); the diagonal is "
        "correct. Choose a true and a predicted class on the right to see those images, then click one to see its "
        "feature maps.",
        "Cada celda cuenta imágenes de prueba de una clase real (fila) predichas como una clase (columna); la "
        "diagonal son aciertos. Elige una clase real y una predicha a la derecha para ver esas imágenes y haz clic "
        "en una para ver sus mapas.",
    ),
    "predicted_axis": ("Predicted class", "Clase predicha"),
    "true_axis": ("True class", "Clase real"),
    "cell_true": ("True class", "Clase real"),
    "cell_predicted": ("Predicted as", "Predicha como"),
    "class_accuracy": ("{label}: {accuracy:.1%}", "{label}: {accuracy:.1%}"),
    "per_class": ("Accuracy per class", "Precisión por clase"),
    "most_confused": ("Most often confused: **{count}** test images of **{true}** predicted as **{predicted}**.",
                      "La confusión más frecuente: **{count}** imágenes de prueba de **{true}** predichas como "
                      "**{predicted}**."),
    "curves_summary": ("After epoch {epoch}: training accuracy {train:.1%}, validation accuracy {val:.1%}; the best "
                       "validation accuracy, {best:.1%}, came at epoch {best_epoch}.",
                       "Tras la época {epoch}: precisión de entrenamiento {train:.1%}, de validación {val:.1%}; la "
                       "mejor precisión de validación, {best:.1%}, llegó en la época {best_epoch}."),
    "cell_images": ("{count} test images of {true} predicted as {predicted}{more}:",
                    "{count} imágenes de prueba de {true} predichas como {predicted}{more}:"),
    "first_shown": (" (first {shown} shown)", " (se muestran las primeras {shown})"),
    "compare_images": ("Test images to compare (up to 3)", "Imágenes a comparar (hasta 3)"),
    "filter_index": ("Filter number", "Número de filtro"),
    "compare_caption": (
        "Filter #{filter} of every conv and pool layer, one row per image (as in the Keras notebook).",
        "Filtro n.º {filter} de cada capa conv y pool, una fila por imagen (como en el cuaderno de Keras).",
    ),
    "checkpoint_error": ("This checkpoint cannot be read ({error}). Train the run again.",
                         "No se puede leer este punto de control ({error}). Entrena el modelo de nuevo."),
    "upload": ("Try your own picture", "Prueba con tu propia foto"),
    "upload_help": ("A photo or drawing of one garment (PNG, JPEG, WebP or GIF). It is turned into a 28×28 "
                    "grayscale image, bright garment on black, like the data set.",
                    "Una foto o dibujo de una prenda (PNG, JPEG, WebP o GIF). Se convierte en una imagen de 28×28 en "
                    "grises, prenda clara sobre fondo negro, como el conjunto de datos."),
    "your_picture": ("Your picture", "Tu foto"),
    "draw_pad_label": ("Drawing pad: draw a garment in white with the mouse or a finger",
                       "Área de dibujo: dibuja una prenda en blanco con el ratón o con el dedo"),
    "as_model_sees": ("What the model sees (28×28)", "Lo que ve el modelo (28×28)"),
    "unknown_label": ("True class: unknown (your picture)", "Clase real: desconocida (tu foto)"),
    "upload_rejected": ("This file cannot be used: {reason}. Pick another picture.",
                        "No se puede usar este archivo: {reason}. Elige otra imagen."),
    "upload_empty": ("the file is empty", "el archivo está vacío"),
    "upload_file_size": ("the file is {megabytes:.1f} MB, at most {limit} MB", "el archivo ocupa {megabytes:.1f} MB, máximo {limit} MB"),
    "upload_not_image": ("it is not an image we can read (use PNG, JPEG, WebP or GIF)",
                         "no es una imagen que podamos leer (usa PNG, JPEG, WebP o GIF)"),
    "upload_format": ("{format} images are not accepted (use PNG, JPEG, WebP or GIF)",
                      "no se aceptan imágenes {format} (usa PNG, JPEG, WebP o GIF)"),
    "upload_too_large": ("the image is {width}×{height} pixels; a picture like this may have at most {limit} megapixels",
                         "la imagen tiene {width}×{height} píxeles; una imagen así puede tener como máximo {limit} megapíxeles"),
    "upload_declared_too_large": ("the image declares a size far beyond any photo",
                                  "la imagen declara un tamaño muy superior al de cualquier foto"),
    "upload_too_small": ("the image is only {width}×{height} pixels, at least {side}×{side}",
                         "la imagen mide solo {width}×{height} píxeles, mínimo {side}×{side}"),
    "upload_damaged": ("the image file is damaged or cut short", "el archivo de imagen está dañado o incompleto"),
    "knockout_title": ("Switch filters off", "Apagar filtros"),
    "knockout_help": ("Pick filters to silence (their maps become zero) and watch the prediction change. The trained "
                      "model is not modified: clear the choice to bring them back.",
                      "Elige filtros para silenciarlos (sus mapas pasan a cero) y mira cómo cambia la predicción. El "
                      "modelo entrenado no se modifica: borra la selección para recuperarlos."),
    "knockout_layer": ("Filters off in {name}", "Filtros apagados en {name}"),
    "knockout_reset": ("Switch all filters back on", "Volver a encender todos los filtros"),
    "knockout_measure": ("Measure test accuracy", "Medir la precisión en prueba"),
    "knockout_accuracy": ("Test accuracy with these filters off: **{off:.2%}** (all filters on: {on:.2%})",
                          "Precisión en prueba con estos filtros apagados: **{off:.2%}** (todos encendidos: {on:.2%})"),
    "knockout_active": ("{count} filter(s) switched off: the prediction and maps below use the modified model.",
                        "{count} filtro(s) apagado(s): la predicción y los mapas usan el modelo modificado."),
    # compare
    "compare_intro": ("Every run trained on this server. Select several to compare their curves.",
                      "Todos los entrenamientos de este servidor. Selecciona varios para comparar sus curvas."),
    "what_is_overfit_title": ("What is overfitting?", "¿Qué es el sobreajuste?"),
    "what_is_overfit": (
        "Training accuracy measures the images the model learns from; validation accuracy measures images it has "
        "never seen. When training accuracy keeps rising but validation stops improving or falls, the model is "
        "**memorising** the training images instead of learning what makes a shirt a shirt: that is overfitting. "
        "The shaded gap between the two curves shows it; the marked epoch is where stopping would have been best.",
        "La precisión de entrenamiento mide las imágenes con las que aprende el modelo; la de validación, imágenes "
        "que nunca ha visto. Si la de entrenamiento sigue subiendo pero la de validación se estanca o baja, el "
        "modelo está **memorizando** las imágenes de entrenamiento en vez de aprender qué hace que una camisa sea "
        "una camisa: eso es sobreajuste. La zona sombreada entre las curvas lo muestra; la época marcada es donde "
        "habría sido mejor parar.",
    ),
    "early_stop_line": ("early stopping", "parada temprana"),
    "overfit_verdict": (
        "{run}: best validation {best:.2%} at epoch {best_epoch}; final training {train:.2%} vs validation {val:.2%} "
        "(gap {gap:+.1f} points).{stop}",
        "{run}: mejor validación {best:.2%} en la época {best_epoch}; al final entrenamiento {train:.2%} frente a "
        "validación {val:.2%} (diferencia {gap:+.1f} puntos).{stop}",
    ),
    "overfit_stop": (" Early stopping on validation loss (patience 3) would have stopped after epoch {stopped} and "
                     "kept epoch {kept} ({kept_acc:.2%}).",
                     " La parada temprana por pérdida de validación (paciencia 3) habría parado tras la época "
                     "{stopped} y conservado la época {kept} ({kept_acc:.2%})."),
    "smoothing_note": ("Label smoothing {value:g} is on: training loss is measured against softened targets, so it "
                       "stays above validation loss even when the model fits the training images better. Compare "
                       "accuracies, or use the Overfitting preset (no smoothing).",
                       "El suavizado de etiquetas {value:g} está activo: la pérdida de entrenamiento se mide contra "
                       "objetivos suavizados, así que queda por encima de la de validación aunque el modelo se ajuste "
                       "mejor a las imágenes de entrenamiento. Compara precisiones, o usa el ejemplo Sobreajuste "
                       "(sin suavizado)."),
    "col_run": ("Run", "Entrenamiento"),
    "col_model": ("Model", "Modelo"),
    "col_epochs": ("Epochs", "Épocas"),
    "col_best_val": ("Best val. acc.", "Mejor prec. val."),
    "col_final_val": ("Final val. acc.", "Prec. val. final"),
    "col_final_train": ("Final train acc.", "Prec. entr. final"),
    "col_sec_epoch": ("s/epoch", "s/época"),
    "col_total": ("Total s", "Total s"),
    "col_device": ("Device", "Dispositivo"),
    "col_status": ("Status", "Estado"),
    "col_source": ("Cached/live", "Caché/en vivo"),
    "source_cached": ("cached", "caché"),
    "source_live": ("live", "en vivo"),
    "select_runs": ("Runs to compare", "Entrenamientos a comparar"),
    "overlay_title": ("Validation accuracy of the selected runs", "Precisión de validación de los seleccionados"),
    "train_vs_val_title": ("Training vs validation", "Entrenamiento frente a validación"),
    "scatter_title": ("Final validation accuracy vs training time", "Precisión final de validación frente a tiempo"),
    "training_seconds": ("Training time (s)", "Tiempo de entrenamiento (s)"),
    "resume_button": ("Resume from epoch {epoch}", "Continuar desde la época {epoch}"),
    "restart_button": ("Restart from scratch", "Empezar de nuevo"),
    "lesson_locked": ("Some settings are locked or hidden by your teacher for this lesson.",
                      "Tu docente ha bloqueado u ocultado algunos ajustes para esta lección."),
    # teacher mode
    "teacher_title": ("Teacher mode", "Modo docente"),
    "teacher_lock": ("Lock for students", "Bloquear para el alumnado"),
    "teacher_hide": ("Hide from students", "Ocultar al alumnado"),
    "teacher_link": ("Students' link to this view (locks included, without teacher mode):",
                     "Enlace para el alumnado a esta vista (con bloqueos, sin modo docente):"),
    "board_clear_confirm": ("Take all {runs} runs off the class board? They stay trained and cached; only the board "
                            "starts empty.",
                            "¿Quitar los {runs} entrenamientos del tablero de la clase? Siguen entrenados y en caché; "
                            "solo el tablero empieza vacío."),
    "board_clear_yes": ("Clear the board", "Vaciar el tablero"),
    "board_clear_no": ("Keep it", "Mantenerlo"),
    "class_jobs": ("The class's jobs", "Trabajos de la clase"),
    "class_jobs_none": ("No job is running or waiting.", "Ningún trabajo está en marcha ni en espera."),
    "class_job_running": ("training, {epoch} of {total} epochs done", "entrenando, {epoch} de {total} épocas hechas"),
    "class_job_queued": ("waiting, number {position} in the queue", "en espera, número {position} de la cola"),
    "lesson_code_live": ("Students who join with this code get your locks and hidden controls at once, and your "
                         "model when you send it; they see your changes within seconds.",
                         "Quien entre con este código recibe al momento tus bloqueos y controles ocultos, y tu modelo "
                         "cuando lo envíes; ve tus cambios en segundos."),
    "lesson_code_show": ("Show the code and QR on the projector", "Mostrar el código y el QR en el proyector"),
    "lesson_code_how": ("Scan the QR code, or open the app and type **{code}** under “Class code” in the sidebar.",
                        "Escanea el código QR, o abre la aplicación y escribe **{code}** en “Código de la clase” en "
                        "la barra lateral."),
    "qr_alt": ("QR code that opens {link}", "Código QR que abre {link}"),
    "lesson_code_input": ("Class code", "Código de la clase"),
    "lesson_join": ("Join the class", "Unirse a la clase"),
    "lesson_code_example": ("as on the projector, e.g. K7Q 4MX", "como en el proyector, p. ej. K7Q 4MX"),
    "lesson_following": ("You are in class **{name}** ({code}): your teacher's changes reach you here.",
                         "Estás en la clase **{name}** ({code}): los cambios de tu docente te llegan aquí."),
    "lesson_code_invalid": ("That is not a class code: a code is six letters or digits, as on the projector.",
                            "Eso no es un código de clase: un código son seis letras o cifras, como en el "
                            "proyector."),
    "lesson_code_unknown": ("No class with the code “{code}” on this server. Check the code on the projector.",
                            "No hay ninguna clase con el código «{code}» en este servidor. Revisa el código del "
                            "proyector."),
    "lesson_code_wait": ("Too many wrong codes from here: try again in {seconds} s.",
                         "Demasiados códigos erróneos desde aquí: vuelve a intentarlo en {seconds} s."),
    "teacher_code_wrong": ("That teacher code is not right. Use the teacher link the server printed when it started.",
                           "Ese código docente no es correcto. Usa el enlace docente que el servidor mostró al "
                           "arrancar."),
    "teacher_code_wait": ("Too many wrong teacher codes from here: the next one is looked at in {seconds} s.",
                          "Demasiados códigos docentes erróneos desde aquí: el siguiente se mirará dentro de "
                          "{seconds} s."),
    "teacher_code_input": ("Teacher code", "Código docente"),
    "teacher_sign_in": ("Open teacher mode", "Abrir el modo docente"),
    "link_source_network": ("The link uses this computer's network address, since your browser opened the app as "
                            "“localhost”. If students cannot open it, set FMNIST_PUBLIC_URL on the server.",
                            "El enlace usa la dirección de red de este ordenador, porque tu navegador abrió la "
                            "aplicación como «localhost». Si el alumnado no puede abrirlo, define FMNIST_PUBLIC_URL "
                            "en el servidor."),
    "link_source_loopback": ("This computer has no network address: students' devices cannot open this link. Set "
                             "FMNIST_PUBLIC_URL on the server to the address they can reach.",
                             "Este ordenador no tiene dirección de red: los dispositivos del alumnado no pueden abrir "
                             "este enlace. Define FMNIST_PUBLIC_URL en el servidor con una dirección que alcancen."),
    "disk_use": ("Disk used by runs and models: {used} GB of {quota} GB (the least recently used runs that no board "
                 "shows make room when it is full).",
                 "Disco usado por entrenamientos y modelos: {used} GB de {quota} GB (cuando se llena, dejan sitio "
                 "los entrenamientos usados hace más tiempo que ningún tablero muestra)."),
    "class_none_open": ("No class is open. Create one for this group (its code is how students join), or open one "
                        "made earlier.",
                        "No hay ninguna clase abierta. Crea una para este grupo (su código es la puerta del "
                        "alumnado) o abre una creada antes."),
    "class_name": ("Name of a new class", "Nombre de una clase nueva"),
    "class_name_example": ("e.g. 3ºB, Tuesday", "p. ej. 3ºB, martes"),
    "class_create": ("Create the class", "Crear la clase"),
    "class_name_invalid": ("A class name has 1 to 40 characters.", "El nombre de una clase tiene de 1 a 40 caracteres."),
    "class_open": ("Or open a class", "O abre una clase"),
    "class_open_button": ("Open this class", "Abrir esta clase"),
    "class_is": ("Class **{name}** · code **{code}**", "Clase **{name}** · código **{code}**"),
    "class_send_model": ("Send my current model to the class", "Enviar mi modelo actual a la clase"),
    "class_model_sent": ("Sent: students following the code get it within seconds.",
                         "Enviado: quien sigue el código lo recibe en segundos."),
    "class_running_cap": ("Jobs of this class training at once", "Trabajos de esta clase entrenando a la vez"),
    "class_running_cap_help": ("This server trains {slots} job(s) at a time for all classes; a lower number here "
                               "leaves room for the other classes.",
                               "Este servidor entrena {slots} trabajo(s) a la vez para todas las clases; un número "
                               "menor aquí deja sitio a las demás clases."),
    "class_leave": ("Close this class (students stay in it)", "Cerrar esta clase (el alumnado sigue en ella)"),
    "class_job_other_class": ("started in another class", "iniciado en otra clase"),
    "imported_title": ("Models brought in by file ({count})", "Modelos traídos en archivo ({count})"),
    "imported_delete": ("Delete", "Borrar"),
    "queue_full_student": ("You already have {limit} runs waiting for the server, the most one student may have: "
                           "this one waits until one of yours starts. Press Train again then.",
                           "Ya tienes {limit} entrenamientos esperando al servidor, el máximo por estudiante: este "
                           "espera a que empiece uno de los tuyos. Pulsa Entrenar otra vez entonces."),
    "queue_full_server": ("The server's queue is full ({limit} runs waiting): try again in a few minutes.",
                          "La cola del servidor está llena ({limit} entrenamientos esperando): vuelve a intentarlo "
                          "en unos minutos."),
    "quota_full_train": ("The server's disk space for runs is full, and every run on it is on a class board or "
                         "training: ask your teacher to clear the board or delete imported models.",
                         "El espacio en disco del servidor para entrenamientos está lleno y todos están en un "
                         "tablero o entrenando: pide a tu docente que limpie el tablero o borre modelos importados."),
    "status_evicted": ("This run's files were removed to keep the server within its disk space. Train it again to "
                       "get it back (its curve below is what it reached).",
                       "Los archivos de este entrenamiento se borraron para no pasar del espacio en disco del "
                       "servidor. Entrénalo de nuevo para recuperarlo (la curva de abajo es lo que alcanzó)."),
    "status_name_evicted": ("removed to free disk", "borrado para liberar disco"),
    "model_error_disk_quota": ("the server's disk space for models is full; ask your teacher to delete imported "
                               "models or clear the class board.",
                               "el espacio en disco del servidor para modelos está lleno; pide a tu docente que borre "
                               "modelos importados o limpie el tablero."),
    "board_intro_class": (
        "Every model your class trained or opened since your teacher last cleared the board. **Your** runs are the "
        "big stars. Which architectures reach the top with the fewest parameters?",
        "Todos los modelos que tu clase entrenó o abrió desde que tu docente limpió el tablero. **Tus** "
        "entrenamientos son las estrellas grandes. ¿Qué arquitecturas llegan más alto con menos parámetros?",
    ),
    "control_presets": ("Preset buttons", "Botones de ejemplos"),
    "control_model_kind": ("Model type", "Tipo de modelo"),
    "control_conv_layers": ("Number of conv layers", "Número de capas conv"),
    "control_filters": ("Filters per layer", "Filtros por capa"),
    "control_kernel_size": ("Filter size", "Tamaño del filtro"),
    "control_padding": ("Padding", "Relleno (padding)"),
    "control_dense": ("Dense layer width", "Ancho de la capa densa"),
    "control_hidden": ("MLP hidden layers", "Capas ocultas del MLP"),
    "control_epochs": ("Epochs", "Épocas"),
    "control_batch_size": ("Batch size", "Tamaño de lote"),
    "control_optimizer": ("Optimizer", "Optimizador"),
    "control_lr": ("Learning rate", "Tasa de aprendizaje"),
    "control_advanced": ("Advanced settings", "Ajustes avanzados"),
    # class board
    "board_intro": (
        "Every model trained or opened on this server by students in no class since the board was last cleared. "
        "**Your** runs are the big stars. Which architectures reach the top with the fewest parameters?",
        "Todos los modelos entrenados o abiertos en este servidor por quien no está en una clase desde la última vez "
        "que se limpió el tablero. "
        "**Tus** entrenamientos son las estrellas grandes. ¿Qué arquitecturas llegan más alto con menos parámetros?",
    ),
    "board_clear": ("Clear the board (runs stay cached)", "Limpiar el tablero (los modelos siguen en caché)"),
    "board_cleared": ("Board cleared.", "Tablero limpio."),
    "board_empty": ("No runs on the board yet: train a model on **Build & train**.",
                    "Aún no hay entrenamientos en el tablero: entrena un modelo en **Construir y entrenar**."),
    "board_axis": ("Horizontal axis", "Eje horizontal"),
    "board_axis_params": ("Parameters (log scale)", "Parámetros (escala log.)"),
    "board_axis_time": ("Training time", "Tiempo de entrenamiento"),
    "board_yours": ("yours", "tuyos"),
    "board_summary": ("{runs} runs from {sessions} browser(s) · yours: {mine} · best: {best:.2%} ({best_model})",
                      "{runs} entrenamientos de {sessions} navegador(es) · tuyos: {mine} · mejor: {best:.2%} "
                      "({best_model})"),
    "family_cnn": ("CNN, {layers} conv", "CNN, {layers} conv"),
    "family_mlp": ("MLP, {layers} hidden", "MLP, {layers} oculta(s)"),
    # MLP vs CNN
    "pair_intro": (
        "The notebooks start with a question: *how can we improve the MLP?* Here both models train with the "
        "**same recipe, seed and order of images**, so the only difference is the convolutions.",
        "Los cuadernos empiezan con una pregunta: *¿cómo podemos mejorar el MLP?* Aquí ambos modelos se entrenan "
        "con **la misma receta, semilla y orden de imágenes**: la única diferencia son las convoluciones.",
    ),
    "pair_recipe": ("Shared recipe: {optimizer} · learning rate {lr:g} · batch {batch} · {epochs} epochs · "
                    "seed {seed}", "Receta común: {optimizer} · tasa {lr:g} · lote {batch} · {epochs} épocas · "
                    "semilla {seed}"),
    "pair_change": ("Change the CNN or the recipe on Build & train", "Cambia la CNN o la receta en Construir y entrenar"),
    "pair_button": ("Train both (or fetch them)", "Entrenar ambos (o recuperarlos)"),
    "pair_params": ("{count:,} parameters", "{count:,} parámetros"),
    "pair_chart_title": ("Validation accuracy per epoch: MLP vs CNN", "Precisión de validación por época: MLP frente a CNN"),
    "pair_not_trained": ("not trained yet", "aún sin entrenar"),
    "col_errors": ("Wrong in 100 test images", "Fallos en 100 imágenes de prueba"),
    # Errors, not "points per parameter": per parameter the smaller MLP looked better on the page meant to show why
    # convolutions help. Same recipe, seed and data order for both, so the difference is the architecture's.
    "pair_verdict_cnn": (
        "Same recipe, seed and data order: the CNN reaches {cnn:.2%}, the MLP {mlp:.2%}. The CNN gets "
        "{cnn_errors:.1f} of every 100 test images wrong instead of {mlp_errors:.1f}: {fewer:.0f}% fewer mistakes, "
        "with {cnn_params:,} parameters against the MLP's {mlp_params:,}.",
        "Misma receta, semilla y orden de datos: la CNN llega a {cnn:.2%}, el MLP a {mlp:.2%}. La CNN falla "
        "{cnn_errors:.1f} de cada 100 imágenes de prueba en vez de {mlp_errors:.1f}: {fewer:.0f}% menos errores, "
        "con {cnn_params:,} parámetros frente a los {mlp_params:,} del MLP.",
    ),
    "pair_verdict_mlp": (
        "Same recipe, seed and data order: this time the MLP ({mlp:.2%}) beats the CNN ({cnn:.2%}). Try more epochs "
        "or the Fast CNN recipe: convolutions need a recipe that lets them learn.",
        "Misma receta, semilla y orden de datos: esta vez el MLP ({mlp:.2%}) supera a la CNN ({cnn:.2%}). Prueba más "
        "épocas o la receta CNN rápida: las convoluciones necesitan una receta que las deje aprender.",
    ),
    "draw_title": ("…or draw a garment", "…o dibuja una prenda"),
    "draw_help": ("Draw with the mouse or a finger; each stroke updates the prediction.",
                  "Dibuja con el ratón o con el dedo; cada trazo actualiza la predicción."),
    "draw_clear": ("Clear", "Borrar"),
    # take the model home
    "model_file_title": ("Take this model home, or bring one back", "Llévate este modelo o trae uno"),
    "download_model": ("Download this model (.pt)", "Descargar este modelo (.pt)"),
    "download_help": (
        "One file with the architecture, the weights of the last saved epoch and the training curve. "
        "Upload it here (or on another server running this app) to explore it again.",
        "Un archivo con la arquitectura, los pesos de la última época guardada y la curva de entrenamiento. "
        "Súbelo aquí (o en otro servidor con esta aplicación) para explorarlo de nuevo.",
    ),
    "upload_model": ("Bring a model back (.pt file downloaded from this app)",
                     "Traer un modelo (archivo .pt descargado de esta aplicación)"),
    "model_rejected": ("This file cannot be used: {reason}", "Este archivo no se puede usar: {reason}"),
    "model_error_file_size": ("it is larger than any model this app builds.",
                              "es más grande que cualquier modelo de esta aplicación."),
    "model_error_not_model": ("it is not a model saved by this app (or it is damaged).",
                              "no es un modelo guardado por esta aplicación (o está dañado)."),
    "model_error_mismatch": ("its description and its weights do not fit together.",
                             "su descripción y sus pesos no encajan."),
    "model_error_values": ("its weights contain invalid numbers (NaN or infinity).",
                           "sus pesos contienen números no válidos (NaN o infinito)."),
    "model_error_curve": ("its training curve is damaged.", "su curva de entrenamiento está dañada."),
    "model_verified": ("Its weights score {measured:.2%} on the test set here, as the file claims ({claimed:.2%}).",
                       "Sus pesos aciertan un {measured:.2%} en el conjunto de prueba aquí, como dice el archivo "
                       "({claimed:.2%})."),
    "model_unverified": ("The file claims {claimed:.2%}, but its weights score {measured:.2%} on the test set here. "
                         "Its curve is shown as claimed by the file; it never answers for this model and is not "
                         "on the class board.",
                         "El archivo dice {claimed:.2%}, pero sus pesos aciertan un {measured:.2%} en el conjunto "
                         "de prueba aquí. Su curva se muestra como la declara el archivo; nunca responde por este "
                         "modelo y no aparece en el tablero de la clase."),
    "source_imported": ("model file (verified)", "archivo de modelo (verificado)"),
    "claimed_by_file": ("claimed by the file", "según el archivo"),
    "measured_here": ("measured here", "medido aquí"),
    "model_error_exists": ("this server already has a run of this model (stopped, or brought in before); open it "
                           "in Explore, or resume it on Build & train.",
                           "este servidor ya tiene un entrenamiento de este modelo (detenido o traído antes); "
                           "ábrelo en Explorar o reanúdalo en Construir y entrenar."),
    "model_error_busy": ("this model is training on this server right now; try again when it ends.",
                         "este modelo se está entrenando ahora en este servidor; inténtalo cuando termine."),
    "model_added": ("Model added: {summary}. It is selected above.",
                    "Modelo añadido: {summary}. Está seleccionado arriba."),
    "model_here": ("This model was already on this server: {summary}. It is selected above.",
                   "Este modelo ya estaba en este servidor: {summary}. Está seleccionado arriba."),
    "status_name_queued": ("queued", "en cola"),
    "status_name_running": ("running", "entrenando"),
    "status_name_done": ("done", "terminado"),
    "status_name_failed": ("failed", "falló"),
    "status_name_cancelled": ("cancelled", "cancelado"),
    "status_name_interrupted": ("interrupted", "interrumpido"),
}


def current_language() -> str:
    """The language of this session: the widget's value, first taken from `?lang=` in the URL."""
    if "lang" not in st.session_state:
        requested = st.query_params.get("lang", "en")
        st.session_state["lang"] = requested if requested in LANGUAGES else "en"
    return st.session_state["lang"]


def class_names(language: str | None = None) -> tuple[str, ...]:
    """The ten class names, in label order, in `language` (the session's when None)."""
    index = 1 if (language or current_language()) == "es" else 0
    return tuple(TEXT[f"class_{label}"][index] for label in range(10))


def count_of(key: str, count: int) -> str:
    """'1 epoch' / '2 epochs' (key_one / key_other), in the session's language."""
    return t(f"{key}_{'one' if count == 1 else 'other'}", count=count)


NBSP = "\u00a0"  # keeps "91,2 %" and "113 386" on one line


def localize_number(text: str, language: str) -> str:
    """A number Python formatted the English way ("113,386", "27.0", "91.23%") in `language`'s format: Spanish
    writes a decimal comma, groups five or more digits with a space and puts a space before "%" (RAE)."""
    if language != "es":
        return text
    percent_sign = text.endswith("%")
    body = text[:-1] if percent_sign else text
    whole, _, fraction = body.partition(".")
    sign = whole[:len(whole) - len(whole.lstrip("+-"))]
    digits = whole[len(sign):].replace(",", "")
    if len(digits) > 4 and digits.isdigit():
        digits = f"{int(digits):,}".replace(",", NBSP)
    localized = sign + digits + ("," + fraction if fraction else "")
    return localized + (NBSP + "%" if percent_sign else "")


class _LocalizedFormatter(string.Formatter):
    """str.format, with every number written in the session's language."""

    def __init__(self, language: str):
        self.language = language

    def format_field(self, value, format_spec: str) -> str:
        text = format(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return localize_number(text, self.language)
        return text


def decimal(value: float, digits: int = 1) -> str:
    """A decimal number in the session's language: 27.0 in English, 27,0 in Spanish."""
    return localize_number(f"{value:,.{digits}f}", current_language())


def percent(value: float, digits: int = 1) -> str:
    """A fraction as a percentage in the session's language: 91.2% / 91,2 %."""
    return localize_number(f"{value:.{digits}%}", current_language())


def number(value: int) -> str:
    """A whole number with the session language's digit grouping: 113,386 in English, 113 386 in Spanish."""
    return localize_number(f"{value:,}", current_language())


def formatted_table(frame, formats: dict[str, tuple[str, int]]):
    """A DataFrame for st.dataframe whose numbers show in the session's language (a Styler: sorting still goes
    by the numbers). `formats` maps a column to ("percent", digits) for values 0–100, ("decimal", digits) or
    ("number", 0)."""
    def formatter(kind: str, digits: int):
        if kind == "percent":
            return lambda value: percent(value / 100, digits)
        if kind == "decimal":
            return lambda value: decimal(value, digits)
        return lambda value: number(int(value))

    present = {column: formatter(*how) for column, how in formats.items() if column in frame.columns}
    return frame.style.format(present, na_rep="")


def t(key: str, **values) -> str:
    """The text `key` in the session's language, formatted with `values` (numbers in the language's format)."""
    english, spanish = TEXT[key]
    language = current_language()
    text = spanish if language == "es" else english
    return _LocalizedFormatter(language).format(text, **values) if values else text
