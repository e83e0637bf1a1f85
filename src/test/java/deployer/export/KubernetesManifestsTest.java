package deployer.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The manifests parse back into fabric8's typed objects and say what the cluster needs to run the image. */
class KubernetesManifestsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private final KubernetesManifests manifests = new KubernetesManifests("iris", 3, "registry.example/iris:3", 8080,
            512);

    private static List<String> documents(String yaml) {
        return java.util.Arrays.stream(yaml.split("(?m)^---\\n")).filter(d -> !d.isBlank()).toList();
    }

    @Test
    void kubernetesYamlHoldsADeploymentAServiceAndAnAutoscaler() throws Exception {
        List<String> docs = documents(manifests.kubernetesYaml());
        assertThat(docs).hasSize(3);
        Deployment deployment = YAML.readValue(docs.get(0), Deployment.class);
        Service service = YAML.readValue(docs.get(1), Service.class);
        HorizontalPodAutoscaler hpa = YAML.readValue(docs.get(2), HorizontalPodAutoscaler.class);

        assertThat(deployment.getApiVersion()).isEqualTo("apps/v1");
        assertThat(deployment.getMetadata().getName()).isEqualTo("iris");
        Container cell = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(cell.getImage()).isEqualTo("registry.example/iris:3");
        assertThat(cell.getPorts().get(0).getContainerPort()).isEqualTo(8080);
        assertThat(cell.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health");
        assertThat(cell.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health");
        assertThat(cell.getStartupProbe().getHttpGet().getPath()).isEqualTo("/health");
        assertThat(cell.getResources().getLimits().get("memory").toString()).isEqualTo("768Mi");
        assertThat(cell.getEnv()).anySatisfy(env -> {
            assertThat(env.getName()).isEqualTo("JAVA_TOOL_OPTIONS");
            assertThat(env.getValue()).isEqualTo("-Xmx512m");
        });
        assertThat(deployment.getSpec().getSelector().getMatchLabels())
                .isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet().stream()
                        .filter(e -> e.getKey().equals("app.kubernetes.io/name"))
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));

        assertThat(service.getSpec().getSelector()).containsEntry("app.kubernetes.io/name", "iris");
        assertThat(service.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("http");

        assertThat(hpa.getApiVersion()).isEqualTo("autoscaling/v2");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("iris");
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getMetrics().get(0).getResource().getName()).isEqualTo("cpu");
    }

    @Test
    @SuppressWarnings("unchecked")
    void kserveYamlIsAnInferenceServiceOfTheImageOnItsPortSpeakingV2() throws Exception {
        List<String> docs = documents(manifests.kserveYaml());
        assertThat(docs).hasSize(1);
        GenericKubernetesResource isvc = YAML.readValue(docs.get(0), GenericKubernetesResource.class);
        assertThat(isvc.getApiVersion()).isEqualTo("serving.kserve.io/v1beta1");
        assertThat(isvc.getKind()).isEqualTo("InferenceService");
        assertThat(isvc.getMetadata().getName()).isEqualTo("iris");
        Map<String, Object> predictor = (Map<String, Object>) ((Map<String, Object>) isvc.getAdditionalProperties()
                .get("spec")).get("predictor");
        Container container = YAML.convertValue(((List<Object>) predictor.get("containers")).get(0), Container.class);
        assertThat(container.getName()).isEqualTo("kserve-container");
        assertThat(container.getImage()).isEqualTo("registry.example/iris:3");
        assertThat(container.getPorts().get(0).getContainerPort()).isEqualTo(8080);
        assertThat(container.getEnv()).anySatisfy(env -> {
            assertThat(env.getName()).isEqualTo("PROTOCOL");
            assertThat(env.getValue()).isEqualTo("v2");
        });
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health");
    }
}
