package deployer.export;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kubernetes objects that run one exported model: written as fabric8's typed model objects and serialized to
 * YAML, so every field is one the API server knows, spelled the way it expects.
 *
 * <ul>
 *   <li>{@code kubernetes.yaml}: a Deployment (readiness, liveness and start-up probes on {@code /health}, memory
 *       from the heap), a Service in front of it, and a HorizontalPodAutoscaler on CPU;</li>
 *   <li>{@code kserve.yaml}: an InferenceService whose predictor is the same image, on the same port, speaking the
 *       Open Inference Protocol (v2).</li>
 * </ul>
 *
 * @param model the model's name (also the objects' name)
 * @param version the exported version
 * @param image the image reference the cluster pulls
 * @param port the port the cell listens on inside the container
 * @param heapMb the JVM's heap; the container's memory is the heap plus room for the JVM's own needs
 */
public record KubernetesManifests(String model, int version, String image, int port, int heapMb) {

    /** Metaspace, threads, native buffers and ONNX Runtime's arenas: what a JVM needs beyond its heap. */
    static final int OVERHEAD_MB = 256;
    static final int MIN_REPLICAS = 1;
    static final int MAX_REPLICAS = 5;
    static final int CPU_TARGET_PERCENT = 70;

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .setSerializationInclusion(JsonInclude.Include.NON_EMPTY);

    public Deployment deployment() {
        return new DeploymentBuilder()
                .withNewMetadata().withName(model).withLabels(labels()).endMetadata()
                .withNewSpec()
                    .withReplicas(MIN_REPLICAS)
                    .withNewSelector().withMatchLabels(selector()).endSelector()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(labels()).endMetadata()
                        .withNewSpec().withContainers(container("cell")).endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    public Service service() {
        return new ServiceBuilder()
                .withNewMetadata().withName(model).withLabels(labels()).endMetadata()
                .withNewSpec()
                    .withSelector(selector())
                    .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString("http"))
                        .withProtocol("TCP").endPort()
                .endSpec()
                .build();
    }

    public HorizontalPodAutoscaler autoscaler() {
        return new HorizontalPodAutoscalerBuilder()
                .withNewMetadata().withName(model).withLabels(labels()).endMetadata()
                .withNewSpec()
                    .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName(model)
                        .endScaleTargetRef()
                    .withMinReplicas(MIN_REPLICAS)
                    .withMaxReplicas(MAX_REPLICAS)
                    .addNewMetric().withType("Resource")
                        .withNewResource().withName("cpu")
                            .withNewTarget().withType("Utilization").withAverageUtilization(CPU_TARGET_PERCENT)
                            .endTarget()
                        .endResource()
                    .endMetric()
                .endSpec()
                .build();
    }

    /**
     * The InferenceService: KServe's CRD has no Java model in fabric8, so it is a generic resource, built from the
     * same typed container as the Deployment's.
     */
    public GenericKubernetesResource inferenceService() {
        Map<String, Object> container = YAML.convertValue(container("kserve-container"), Map.class);
        Map<String, Object> predictor = new LinkedHashMap<>();
        predictor.put("minReplicas", MIN_REPLICAS);
        predictor.put("maxReplicas", MAX_REPLICAS);
        predictor.put("containers", List.of(container));
        return new GenericKubernetesResourceBuilder()
                .withApiVersion("serving.kserve.io/v1beta1")
                .withKind("InferenceService")
                .withNewMetadata().withName(model).withLabels(labels()).endMetadata()
                .addToAdditionalProperties("spec", Map.of("predictor", predictor))
                .build();
    }

    /** {@code kubernetes.yaml}: the Deployment, the Service and the autoscaler, as one multi-document file. */
    public String kubernetesYaml() {
        return documents(deployment(), service(), autoscaler());
    }

    /** {@code kserve.yaml}: the InferenceService. */
    public String kserveYaml() {
        return documents(inferenceService());
    }

    private Container container(String name) {
        Quantity memory = new Quantity((heapMb + OVERHEAD_MB) + "Mi");
        return new ContainerBuilder()
                .withName(name)
                .withImage(image)
                .addNewPort().withName("http").withContainerPort(port).withProtocol("TCP").endPort()
                .addNewEnv().withName("JAVA_TOOL_OPTIONS").withValue("-Xmx" + heapMb + "m").endEnv()
                // The Open Inference Protocol (v2) is what the cell's /v2 routes speak; KServe reads this.
                .addNewEnv().withName("PROTOCOL").withValue("v2").endEnv()
                .withNewResources()
                    .addToRequests("memory", memory).addToRequests("cpu", new Quantity("250m"))
                    .addToLimits("memory", memory)
                .endResources()
                // A model may take long to load: the start-up probe gives it five minutes before liveness counts.
                .withStartupProbe(health(2, 150))
                .withReadinessProbe(health(5, 3))
                .withLivenessProbe(health(10, 3))
                .build();
    }

    private Probe health(int periodSeconds, int failureThreshold) {
        return new ProbeBuilder()
                .withNewHttpGet().withPath("/health").withPort(new IntOrString("http")).endHttpGet()
                .withPeriodSeconds(periodSeconds)
                .withTimeoutSeconds(2)
                .withFailureThreshold(failureThreshold)
                .build();
    }

    private Map<String, String> selector() {
        return Map.of("app.kubernetes.io/name", model);
    }

    private Map<String, String> labels() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", model);
        labels.put("app.kubernetes.io/version", "v" + version);
        labels.put("app.kubernetes.io/managed-by", "deployer");
        return labels;
    }

    private static String documents(KubernetesResource... resources) {
        StringBuilder yaml = new StringBuilder();
        for (KubernetesResource resource : resources) {
            try {
                yaml.append("---\n").append(YAML.writeValueAsString(resource));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("could not write " + resource.getClass().getSimpleName()
                        + " as YAML: " + e.getOriginalMessage(), e);
            }
        }
        return yaml.toString();
    }
}
